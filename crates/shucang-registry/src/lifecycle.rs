//! After approval (PRODUCT.md §6): a change is recorded within 5 working
//! days of the day it happened (a late one is accepted and flagged) and
//! reviewed again while the number stays valid; a cancellation names a
//! termination date at least 30 working days ahead and, once approved,
//! the filing becomes 已注销 on that date. Numbers are never reused.

use serde::{Deserialize, Serialize};
use shucang_types::{Date, FilingNumber};

use crate::{
    Action, AppState, Application, ApplicationForm, CalendarLoad, DecisionKind, PendingUpdate,
    Reason, Registry, RegistryError, Transition, User, codec, validate,
};

/// Working days after a change within which it must be recorded.
pub const CHANGE_RECORD_WORKING_DAYS: u32 = 5;
/// Working days a cancellation must be filed before the termination date.
pub const CANCELLATION_NOTICE_WORKING_DAYS: u32 = 30;

/// A change or cancellation waiting for review (stored as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    /// A recorded change.
    Change {
        /// The new form (boxed: a form is far larger than a date).
        form: Box<ApplicationForm>,
        /// When the change happened.
        changed_on: String,
        /// The last day it could be recorded on time.
        record_by: String,
        /// When it was recorded.
        recorded_on: String,
        /// Recorded after `record_by`.
        late: bool,
        /// Set while `record_by` is provisional: the year whose holidays
        /// were not known (its weekdays were counted).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record_by_provisional: Option<i32>,
    },
    /// A cancellation.
    Cancellation {
        /// The day the service ends.
        termination_date: String,
        /// Set while the 30-working-day notice was checked provisionally:
        /// the year whose holidays were not known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice_provisional: Option<i32>,
        /// The notice turned out shorter than 30 working days once that
        /// year's holidays were loaded (the reviewer sees it).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        notice_short: bool,
    },
}

impl Registry {
    /// The approved application a filing number belongs to, for its filer
    /// (someone else's, or an unknown number: not found).
    pub(crate) async fn filing(
        &self,
        user: &User,
        number: &str,
    ) -> Result<Application, RegistryError> {
        let Ok(number) = FilingNumber::parse(number) else {
            return Err(RegistryError::NotFound);
        };
        let rec = self
            .store
            .number(number.as_str())
            .await?
            .ok_or(RegistryError::NotFound)?;
        self.application(user, rec.application_id).await
    }

    /// A filer's filing and the transition `action` would make from it.
    async fn filing_step(
        &self,
        user: &User,
        number: &str,
        action: Action,
    ) -> Result<(Application, Transition), RegistryError> {
        Self::filer_only(user)?;
        let app = self.filing(user, number).await?;
        let t = app.step(action, Some(user), self.clock.now())?;
        Ok((app, t))
    }

    /// Records a change that happened on `changed_on`: the whole new form,
    /// validated like a submission; reviewed again, the number stays valid.
    pub async fn record_change(
        &self,
        user: &User,
        number: &str,
        changed_on: &str,
        form: &ApplicationForm,
    ) -> Result<Application, RegistryError> {
        let (app, t) = self.filing_step(user, number, Action::RecordChange).await?;
        let today = self.today();
        let changed = parse_day(changed_on, "changed_on")?;
        if changed > today {
            return Err(RegistryError::Invalid {
                field: "changed_on",
                message: "a change is recorded once it has happened".into(),
            });
        }
        let ids: Vec<i64> = app.attachments.iter().map(|a| a.id).collect();
        let findings = validate(form, &ids, today);
        if !findings.problems.is_empty() {
            return Err(RegistryError::Incomplete(findings));
        }
        if form.services.len() != app.record.form.services.len() {
            return Err(RegistryError::Invalid {
                field: "services",
                message: "a change keeps the filed services (one number each); file a new application for a new service".into(),
            });
        }
        let reckoned = self
            .calendar
            .add_working_days_provisionally(changed, CHANGE_RECORD_WORKING_DAYS)?;
        let record_by = reckoned.value;
        let late = today > record_by;
        let due = self
            .calendar
            .add_working_days_provisionally(today, crate::REVIEW_WORKING_DAYS)?;
        let pending = Pending::Change {
            form: Box::new(form.clone()),
            changed_on: changed.to_string(),
            record_by: record_by.to_string(),
            recorded_on: today.to_string(),
            late,
            record_by_provisional: reckoned.provisional,
        };
        let late_note = if late {
            format!("（逾期：应于 {record_by} 前报备）")
        } else {
            String::new()
        };
        let id = app.record.id;
        let text =
            format!("您的备案（申请编号 {id}）变更已报备{late_note}，审核期间备案编号继续有效。");
        let t = t
            .submitted(due)
            .detail(codec::change_detail(changed, record_by, late))
            .messages(self.notify(user, &text))
            .pending(PendingUpdate::Set(pending));
        self.transit(app, t).await
    }

    /// Files a cancellation ending the service on `termination_date`, at
    /// least 30 working days from today; earlier dates are refused with the
    /// earliest allowed one.
    pub async fn request_cancellation(
        &self,
        user: &User,
        number: &str,
        termination_date: &str,
    ) -> Result<Application, RegistryError> {
        let (app, t) = self
            .filing_step(user, number, Action::FileCancellation)
            .await?;
        let ends = parse_day(termination_date, "termination_date")?;
        let today = self.today();
        // A year without a schedule counts its weekdays: the earliest date
        // is then provisional (the true one is the same or later) and is
        // checked again when that year's holidays are loaded.
        let earliest = self
            .calendar
            .add_working_days_provisionally(today, CANCELLATION_NOTICE_WORKING_DAYS)?;
        if ends < earliest.value {
            return Err(RegistryError::TooSoon(earliest.value.to_string()));
        }
        let due = self
            .calendar
            .add_working_days_provisionally(today, crate::REVIEW_WORKING_DAYS)?;
        let id = app.record.id;
        let pending = Pending::Cancellation {
            termination_date: ends.to_string(),
            notice_provisional: earliest.provisional,
            notice_short: false,
        };
        let text = format!(
            "您的备案（申请编号 {id}）注销申请已提交，拟终止服务日期：{ends}。审核期限：{}{}。",
            due.value,
            crate::provisional_note(due.provisional)
        );
        let t = t
            .submitted(due)
            .detail(codec::detail(&[("termination_date", ends.to_string())]))
            .messages(self.notify(user, &text))
            .pending(PendingUpdate::Set(pending));
        self.transit(app, t).await
    }

    /// A reviewer's decision on a change or a cancellation: approval
    /// applies the change (or schedules the cancellation); anything else
    /// keeps the filing as it was, with the reasons recorded.
    pub(crate) async fn decide_pending(
        &self,
        user: &User,
        app: Application,
        kind: DecisionKind,
        reasons: Vec<Reason>,
    ) -> Result<Application, RegistryError> {
        let id = app.record.id;
        let why = reasons
            .iter()
            .map(|r| r.reason.as_str())
            .collect::<Vec<_>>()
            .join("；");
        let approve = kind == DecisionKind::Approve;
        let (action, form, pending, text) = match &app.record.pending {
            Some(Pending::Change { form, .. }) if approve => (
                Action::ApproveChange,
                Some((**form).clone()),
                PendingUpdate::Clear,
                format!("您的备案（申请编号 {id}）变更审核通过，备案信息已更新。"),
            ),
            Some(Pending::Change { .. }) => (
                Action::RejectChange,
                None,
                PendingUpdate::Clear,
                format!("您的备案（申请编号 {id}）变更审核未通过：{why}。原备案信息继续有效。"),
            ),
            Some(Pending::Cancellation {
                termination_date, ..
            }) if approve => (
                Action::ApproveCancellation,
                None,
                PendingUpdate::Keep,
                format!(
                    "您的备案（申请编号 {id}）注销申请审核通过，将于 {termination_date} 注销。"
                ),
            ),
            Some(Pending::Cancellation { .. }) => (
                Action::RejectCancellation,
                None,
                PendingUpdate::Clear,
                format!("您的备案（申请编号 {id}）注销申请审核未通过：{why}。"),
            ),
            None => {
                return Err(RegistryError::Internal(
                    "a pending state without its request".into(),
                ));
            }
        };
        let now = self.clock.now();
        let filer = self.filer_of(&app).await?;
        let mut t = app
            .step(action, Some(user), now)?
            .decision(crate::Decision {
                decision: kind,
                reasons,
                reviewer_id: user.id,
                at_ms: now.0,
            })
            .messages(self.notify(&filer, &text))
            .pending(pending);
        if let Some(form) = form {
            t = t.form(form);
        }
        self.transit(app, t).await
    }

    /// [`Registry::settle_cancellations`] once per China day (and again
    /// after a cancellation is approved): termination dates are days, so
    /// the server's worker and the public search, which call this, do not
    /// read every approved cancellation on every pass or query.
    pub async fn settle_cancellations_daily(&self) -> Result<usize, RegistryError> {
        let today = self.today();
        let settled = |s: &std::sync::Mutex<Option<Date>>| {
            *s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if settled(&self.settled_on) == Some(today) {
            return Ok(0);
        }
        let done = self.settle_cancellations().await?;
        *self
            .settled_on
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(today);
        Ok(done)
    }

    /// Forgets the day cancellations were settled for, so the next
    /// [`Registry::settle_cancellations_daily`] looks again.
    pub(crate) fn unsettle(&self) {
        *self
            .settled_on
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Cancels every filing whose approved termination date has come;
    /// returns how many. Run by the server's worker and before public
    /// answers (through [`Registry::settle_cancellations_daily`]), so
    /// 已注销 shows from that day.
    pub async fn settle_cancellations(&self) -> Result<usize, RegistryError> {
        let today = self.today();
        let mut done = 0;
        for record in self
            .store
            .applications_in(&[AppState::CancellationApproved])
            .await?
        {
            let Some(Pending::Cancellation {
                termination_date, ..
            }) = &record.pending
            else {
                continue;
            };
            if crate::parse_date(termination_date)? > today {
                continue;
            }
            let id = record.id;
            let Some(filer) = self.store.user_by_id(record.filer_id).await? else {
                return Err(RegistryError::Internal(
                    "an application without its filer".into(),
                ));
            };
            let text = format!(
                "您的备案（申请编号 {id}）已于 {termination_date} 注销（已注销），备案编号不再使用。"
            );
            // The registry itself, on the date the reviewer approved.
            let t = Transition::step(id, record.state, Action::Terminate, None, self.clock.now())?
                .detail(codec::detail(&[(
                    "termination_date",
                    termination_date.clone(),
                )]))
                .messages(self.notify(&filer, &text));
            if self.store.transition(&t).await? {
                done += 1;
            }
        }
        Ok(done)
    }
}

impl Registry {
    /// Recomputes every provisional date whose year's holidays are now
    /// known (run when `registry serve` starts and right after
    /// `load-holidays`): the review deadline from the day of submission, a
    /// change's record-by date (and whether it was late), a cancellation's
    /// 30-working-day notice (a notice that turns out short is flagged for
    /// the reviewer). Each application recomputed gets an audit step and
    /// its filer a message. Returns how many.
    pub async fn settle_provisional_deadlines(&self) -> Result<usize, RegistryError> {
        let known = |year: Option<i32>| year.is_some_and(|y| self.calendar.schedule(y).is_some());
        let mut done = 0;
        for record in self.store.applications_in(&AppState::IN_REVIEW).await? {
            let pending_waits = match &record.pending {
                Some(Pending::Change {
                    record_by_provisional,
                    ..
                }) => known(*record_by_provisional),
                Some(Pending::Cancellation {
                    notice_provisional, ..
                }) => known(*notice_provisional),
                None => false,
            };
            let Some(submitted_at) = record.submitted_at else {
                continue;
            };
            if !known(record.due_provisional) && !pending_waits {
                continue;
            }
            let submitted_on = submitted_at.china_date();
            let due = self
                .calendar
                .add_working_days_provisionally(submitted_on, crate::REVIEW_WORKING_DAYS)?;
            let mut notes = vec![format!(
                "审核期限按已公布的节假日安排重算为 {}{}",
                due.value,
                crate::provisional_note(due.provisional)
            )];
            let pending = match record.pending.clone() {
                Some(Pending::Change {
                    form,
                    changed_on,
                    recorded_on,
                    record_by_provisional: Some(_),
                    ..
                }) => {
                    let record_by = self.calendar.add_working_days_provisionally(
                        crate::parse_date(&changed_on)?,
                        CHANGE_RECORD_WORKING_DAYS,
                    )?;
                    let late = crate::parse_date(&recorded_on)? > record_by.value;
                    if late {
                        notes.push(format!("变更应于 {} 前报备，本次报备逾期", record_by.value));
                    }
                    PendingUpdate::Set(Pending::Change {
                        form,
                        changed_on,
                        record_by: record_by.value.to_string(),
                        recorded_on,
                        late,
                        record_by_provisional: record_by.provisional,
                    })
                }
                Some(Pending::Cancellation {
                    termination_date,
                    notice_provisional: Some(_),
                    ..
                }) => {
                    let earliest = self.calendar.add_working_days_provisionally(
                        submitted_on,
                        CANCELLATION_NOTICE_WORKING_DAYS,
                    )?;
                    let short = crate::parse_date(&termination_date)? < earliest.value;
                    if short {
                        notes.push(format!(
                            "拟终止服务日期早于提前 30 个工作日的最早日期 {}，审核人员将与您联系",
                            earliest.value
                        ));
                    }
                    PendingUpdate::Set(Pending::Cancellation {
                        termination_date,
                        notice_provisional: earliest.provisional,
                        notice_short: short,
                    })
                }
                _ => PendingUpdate::Keep,
            };
            let id = record.id;
            let Some(filer) = self.store.user_by_id(record.filer_id).await? else {
                return Err(RegistryError::Internal(
                    "an application without its filer".into(),
                ));
            };
            let text = format!("您的备案申请（编号 {id}）{}。", notes.join("；"));
            let t = Transition::step(
                id,
                record.state,
                Action::SettleDeadline,
                None,
                self.clock.now(),
            )?
            .deadline(submitted_at, due)
            .detail(codec::deadline_detail(due))
            .messages(self.notify(&filer, &text))
            .pending(pending);
            if self.store.transition(&t).await? {
                done += 1;
            }
        }
        Ok(done)
    }
}

/// A `YYYY-MM-DD` from a caller.
pub(crate) fn parse_day(s: &str, field: &'static str) -> Result<Date, RegistryError> {
    crate::ymd(s).ok_or_else(|| RegistryError::Invalid {
        field,
        message: "a date as YYYY-MM-DD".into(),
    })
}

/// The last year the built-in schedules cover; loads are for later years.
pub const BUILT_IN_LAST_YEAR: i32 = 2026;

/// The built-in calendar with every loaded year applied (each checked
/// again: a year's schedule must be complete and its dates its own).
pub fn calendar_with_loads(
    loads: &[(i32, String)],
) -> Result<shucang_calendar::Calendar, shucang_calendar::CalendarError> {
    let mut calendar = shucang_calendar::Calendar::embedded();
    for (year, text) in loads {
        let parsed = shucang_calendar::parse_schedules(text)?;
        if let Some(schedule) = parsed.get(year) {
            calendar = calendar.with_year(*year, schedule.clone())?;
        }
    }
    Ok(calendar)
}

/// Checks a schedule file an administrator loads and records each of its
/// years (only years after the built-in ones); returns the years loaded.
pub async fn load_holiday_schedules(
    store: &dyn crate::RegistryStore,
    text: &str,
    loaded_by: &str,
    at: shucang_types::UnixMillis,
) -> Result<Vec<i32>, RegistryError> {
    let by = loaded_by.trim();
    if by.is_empty() || by.chars().count() > 100 {
        return Err(RegistryError::Invalid {
            field: "by",
            message: "who loads the schedule: 1 to 100 characters".into(),
        });
    }
    let years = shucang_calendar::parse_schedules(text)?;
    if years.is_empty() {
        return Err(RegistryError::Invalid {
            field: "file",
            message: "the file holds no schedule".into(),
        });
    }
    if let Some(year) = years.keys().find(|y| **y <= BUILT_IN_LAST_YEAR) {
        return Err(RegistryError::Invalid {
            field: "file",
            message: format!(
                "{year} is built in; load schedules for {} and later",
                BUILT_IN_LAST_YEAR + 1
            ),
        });
    }
    let mut loaded = Vec::new();
    for year in years.keys() {
        let prefix = format!("{year} ");
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with(&prefix))
            .collect();
        let load = CalendarLoad {
            year: *year,
            schedule: lines.join("\n") + "\n",
            loaded_by: by.to_owned(),
            at,
        };
        store.insert_calendar_load(&load).await?;
        tracing::info!(year, loaded_by = by, "holiday schedule loaded");
        loaded.push(*year);
    }
    Ok(loaded)
}
