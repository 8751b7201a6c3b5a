//! The scenarios, one module each.

pub mod browse;
pub mod chat;
mod connect;
pub mod failover;
pub mod fanout;
pub mod history;
pub mod idle;
mod member;
pub mod migrate;
mod order;
pub mod reconnect;
pub mod startup;
