//! `seed`: fills the database with synthetic offices and deliveries (see `Store::seed`) so that the inbox can be
//! measured at scale, and gives one office with pending deliveries a bearer token.

use std::process::ExitCode;
use std::time::Instant;

use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::relay::Relay;
use crate::store::Store;

/// Options of `careplan-relay seed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Registered offices to create (half care managers, half providers).
    #[arg(long, default_value_t = 40_000)]
    offices: u64,
    /// Delivered sets to create (each one submission, one file, one delivery).
    #[arg(long, default_value_t = 10_000_000)]
    deliveries: u64,
    /// Varies recipients, senders and ids; seed a database twice only with different values.
    #[arg(long, default_value_t = 1)]
    seed: u32,
    /// Queued deliveries, the newest, all for the office printed at the end.
    #[arg(long, default_value_t = 5_000)]
    backlog: u64,
}

pub(super) async fn run(settings: &Settings, args: &Args) -> anyhow::Result<ExitCode> {
    crate::files::private_dir(&settings.data_dir)?;
    let store = Store::open(&settings.database_url(), Some(2), settings.schema())
        .await?
        .0;
    eprintln!(
        "seeding {} offices and {} deliveries on {}",
        args.offices,
        args.deliveries,
        store.backend()
    );
    let started = Instant::now();
    // (deliveries, seconds) at the last line printed, for the rate since then.
    let (mut reported, mut last) = (0, (0, 0.0));
    let (office, pending) = store
        .seed(
            args.offices,
            args.deliveries,
            args.seed,
            args.backlog,
            |done, total, step| {
                let secs = started.elapsed().as_secs_f64();
                if step != "deliveries" {
                    eprintln!("  {step} at {secs:.1} s");
                    last = (done, secs);
                    return;
                }
                // About every 2 % (and at the end), with the average rate and the rate since the last line.
                if done == total || done * 50 / total.max(1) > reported {
                    reported = done * 50 / total.max(1);
                    let recent = (done - last.0) as f64 / (secs - last.1).max(1e-3);
                    eprintln!(
                        "  {done} / {total} deliveries, {secs:.0} s ({:.0} per second; {recent:.0} lately)",
                        done as f64 / secs.max(1e-3)
                    );
                    last = (done, secs);
                }
            },
        )
        .await?;
    eprintln!(
        "seeded in {:.1} s; office {office} has {pending} pending deliveries",
        started.elapsed().as_secs_f64()
    );
    let spec = crate::spec::Spec::get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let relay = Relay::open(store, spec, &settings.data_dir, settings.policies())?;
    let token = match relay.issue_token(Some(&office), "seed").await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("careplan-relay: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    relay.close().await;
    say!("office {office}");
    say!("{}", token.token.expose_secret());
    Ok(ExitCode::SUCCESS)
}
