//! The `berth` binary's library half: configuration, `serve`, and the command line.

pub mod cli;
pub mod config;
pub mod serve;
