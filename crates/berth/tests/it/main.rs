//! Berth's integration and end-to-end tests: one test binary, each test starting its own real
//! `berth serve` process on a free loopback port with its own data directory and database.

mod access_bad_input;
mod access_control;
mod access_matrix;
mod api_uploads;
mod api_workflows;
mod bad_input;
mod cli_and_config;
mod cli_client;
mod cloud_storage;
mod e2e_access;
mod e2e_clients;
mod faults;
mod image_streams;
mod notifications;
mod scale_out;
mod stream_resources;
mod support;
mod watch;
