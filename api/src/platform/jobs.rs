//! Background work every instance may run: no-shows after the day passes, reminders the day
//! before, drafts not submitted in time, the SMS outbox, the retention policy, and closed
//! accounts' proof files a first delete missed. On PostgreSQL each step takes its rows with
//! `FOR UPDATE SKIP LOCKED`, so several instances share the work without doing it twice.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::booking::model::DueAppointment;
use crate::booking::service as booking;
use crate::casework::applications::model::Application;
use crate::casework::service as casework;
use crate::credentials::permits::model::Permit;
use crate::notifications::notice;
use crate::notifications::service::dispatch_sms;
use crate::platform::clock::local_date;
use crate::platform::state::AppState;
use crate::platform::storage::StorageError;
use crate::privacy::retention::model::Swept;
use crate::privacy::retention::service as retention;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub no_shows: usize,
    pub reminders: usize,
    pub endorsement_reminders: usize,
    pub drafts_expired: usize,
    pub sms_sent: usize,
    pub retention: Swept,
    /// Proof files of closed accounts whose first delete had failed.
    pub files_erased: usize,
}

const BATCH: i64 = 200;

/// One round of every job, as of `now`.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> Result<Round, StorageError> {
    let today = local_date(now);
    let mut round = Round::default();
    loop {
        let n =
            booking::mark_no_shows(&*state.storage, today, BATCH, now, &|d: &DueAppointment| {
                notice::no_show(&d.application, &d.appointment)
            })
            .await?;
        round.no_shows += n;
        if n < BATCH as usize {
            break;
        }
    }
    if let Some(tomorrow) = today.succ_opt() {
        let names: std::collections::HashMap<uuid::Uuid, String> = state
            .storage
            .service_points(None)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        loop {
            let n = booking::queue_reminders(
                &*state.storage,
                tomorrow,
                BATCH,
                now,
                &|d: &DueAppointment| {
                    let point = names
                        .get(&d.appointment.service_point_id)
                        .map(String::as_str)
                        .unwrap_or("受理点");
                    notice::reminder(&d.application, &d.appointment, point)
                },
            )
            .await?;
            round.reminders += n;
            if n < BATCH as usize {
                break;
            }
        }
    }
    // The endorsement window opens a month before the due date.
    if let Some(opens_by) = today.checked_add_months(crate::credentials::permits::rules::WINDOW) {
        round.endorsement_reminders = crate::credentials::service::queue_endorsement_reminders(
            &*state.storage,
            opens_by,
            BATCH,
            now,
            &|p: &Permit, phone: Option<String>| notice::endorsement_due(p, phone),
        )
        .await?;
    }
    // A draft holds no one's ID number, but one left for a month is cleared away: cancelled
    // here, with a notice, then deleted with its files by the retention step below (the same
    // cutoff, so in the same round).
    let policy = &state.config.retention;
    let before = policy.cutoffs(now).drafts;
    let days = i64::from(policy.draft_days);
    loop {
        let n = casework::expire_drafts(&*state.storage, before, BATCH, now, &|a: &Application| {
            notice::draft_expired(a, days)
        })
        .await?;
        round.drafts_expired += n;
        if n < BATCH as usize {
            break;
        }
    }
    loop {
        let n = dispatch_sms(&*state.storage, &*state.sms, now).await?;
        round.sms_sent += n;
        if n == 0 {
            break;
        }
    }
    round.retention = retention::apply(
        &*state.storage,
        &*state.files,
        &*state.ephemeral,
        policy,
        now,
    )
    .await?;
    round.files_erased =
        crate::privacy::service::erase_pending_files(&*state.storage, &*state.files, BATCH).await?;
    Ok(round)
}

/// Runs the jobs every `jobs_interval_secs` until the process ends.
pub fn spawn(state: AppState) {
    let secs = state.config.jobs_interval_secs;
    if secs == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_once(&state, Utc::now()).await {
                Ok(r) if r != Round::default() => tracing::info!(?r, "background jobs"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "background jobs failed; retrying next round"),
            }
        }
    });
}
