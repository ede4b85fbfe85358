//! The `berth` binary's library half: configuration, `serve`, the client
//! commands, and the command line.

pub mod cli;
pub mod client;
pub mod config;
pub mod serve;
