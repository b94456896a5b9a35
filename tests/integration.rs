//! The integration tests, in one binary: linking Tidings into a binary per test file took
//! about a minute and half a gigabyte of disk per file. `proxy.rs` and `metrics.rs` stay
//! binaries of their own because they change process-wide state (proxy variables, the
//! metrics recorder) that the other tests would feel.
#![cfg(feature = "ssr")]

mod support;

mod ab_tests;
mod admin;
mod api;
mod audit;
mod automations;
mod cluster;
mod connections;
mod crash;
mod dashboard;
mod delivery;
mod faults;
mod frequency_cap;
mod hardening;
mod keys;
mod languages;
mod leases;
mod local_time;
mod migrations;
mod readme;
mod release;
mod report;
mod scheduling;
mod security;
mod sites;
mod ssrf;
mod startup;
mod subscribers;
mod subscriptions;
mod topics;
mod tracking;
mod webhooks;
