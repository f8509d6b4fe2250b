//! Integration tests of the platform server: the real application on port 0,
//! real HTTP, a real SQLite file (and PostgreSQL when
//! `SHUCANG_TEST_POSTGRES_URL` is set), the real binary for the CLI and for
//! `kill -9`.

mod accounts;
mod browser;
mod chain;
mod cli;
mod collectibles;
mod contract;
mod crawl;
mod drops;
mod harness;
mod house;
mod http;
mod identity;
mod limits;
mod pages;
mod payments;
mod process;
mod races;
mod registry;
mod support;
mod webdriver;
mod witness;
mod works;
