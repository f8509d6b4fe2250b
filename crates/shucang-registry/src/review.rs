//! Submission, the review queue, opening and deciding, and the filing
//! numbers an approval issues.

use rand::RngCore;
use rand::rngs::OsRng;
use shucang_types::{FilingNumber, FilingNumberParts, UnixMillis};

use crate::{
    Action, AppState, Application, Decision, DecisionKind, NumberRecord, REASON_CHARS_MAX,
    REASONS_MAX, REVIEW_WORKING_DAYS, Reason, Registry, RegistryError, StoreError, User, UserRole,
    codec, validate,
};

impl Registry {
    /// Submits a draft (or a returned application): every problem is
    /// listed and it stays editable; otherwise it is 未审核 with a deadline
    /// 20 working days on.
    pub async fn submit(&self, user: &User, id: i64) -> Result<Application, RegistryError> {
        let app = self.application(user, id).await?;
        Self::confirmed_filer(user)?;
        let now = self.clock.now();
        let t = app.step(Action::Submit, Some(user), now)?;
        let ids: Vec<i64> = app.attachments.iter().map(|a| a.id).collect();
        let findings = validate(&app.record.form, &ids, self.today());
        if !findings.problems.is_empty() {
            return Err(RegistryError::Incomplete(findings));
        }
        let due = self
            .calendar
            .add_working_days_provisionally(now.china_date(), REVIEW_WORKING_DAYS)?;
        let text = format!(
            "您的备案申请（编号 {id}）已提交，状态：未审核。审核期限：{}（20 个工作日）{}。",
            due.value,
            crate::provisional_note(due.provisional)
        );
        let t = t
            .submitted(due)
            .detail(codec::deadline_detail(due))
            .messages(self.notify(user, &text));
        self.transit(app, t).await
    }

    pub(crate) fn staff(user: &User, role: UserRole) -> Result<(), RegistryError> {
        if user.role != role {
            return Err(RegistryError::Forbidden(role.code()));
        }
        Ok(())
    }

    /// The review queue: submitted and in-review applications, the nearest
    /// deadline first.
    pub async fn review_queue(&self, user: &User) -> Result<Vec<Application>, RegistryError> {
        Self::staff(user, UserRole::Reviewer)?;
        let mut out = Vec::new();
        for r in self.store.applications_in(&AppState::IN_REVIEW).await? {
            out.push(self.load(r).await?);
        }
        out.sort_by_key(|a| (a.record.due_date, a.record.id));
        Ok(out)
    }

    /// What the reviewer console warns about: from 1 November, a missing
    /// schedule for next year (deadlines reaching it cannot be computed).
    pub fn calendar_warning(&self, user: &User) -> Result<Option<i32>, RegistryError> {
        Self::staff(user, UserRole::Reviewer)?;
        Ok(self.calendar.missing_next_year(self.today()))
    }

    /// A reviewer opens an application: 未审核 becomes 审核中 (audited and
    /// notified); opening one already in review changes nothing.
    pub async fn open_for_review(
        &self,
        user: &User,
        id: i64,
    ) -> Result<Application, RegistryError> {
        Self::staff(user, UserRole::Reviewer)?;
        let app = self.application(user, id).await?;
        self.open_loaded(user, app).await
    }

    /// Opens an application already loaded, if it is 未审核.
    async fn open_loaded(
        &self,
        user: &User,
        app: Application,
    ) -> Result<Application, RegistryError> {
        if app.record.state != AppState::Submitted {
            return Ok(app);
        }
        let id = app.record.id;
        let filer = self.filer_of(&app).await?;
        let t = app
            .step(Action::Open, Some(user), self.clock.now())?
            .messages(self.notify(&filer, &format!("您的备案申请（编号 {id}）状态：审核中。")));
        match self.transit(app, t).await {
            // Another reviewer opened it at the same moment: as it now is.
            Err(RegistryError::WrongState { .. }) => self.application(user, id).await,
            answer => answer,
        }
    }

    /// Records a decision. Approval issues one number per service;
    /// rejection and "materials incomplete" need at least one reason.
    pub async fn decide(
        &self,
        user: &User,
        id: i64,
        kind: DecisionKind,
        reasons: Vec<Reason>,
    ) -> Result<Application, RegistryError> {
        Self::staff(user, UserRole::Reviewer)?;
        check_reasons(kind, &reasons)?;
        let current = self.application(user, id).await?;
        if matches!(
            current.record.state,
            AppState::ChangePending | AppState::CancellationPending
        ) {
            return self.decide_pending(user, current, kind, reasons).await;
        }
        // Opening is part of deciding: a decision on a 未审核 application
        // passes through 审核中 first, so the trail shows both.
        let app = self.open_loaded(user, current).await?;
        let action = match kind {
            DecisionKind::Approve => Action::Approve,
            DecisionKind::Reject => Action::Reject,
            DecisionKind::Incomplete => Action::ReturnForMaterials,
        };
        let now = self.clock.now();
        let t = app.step(action, Some(user), now)?;
        let filer = self.filer_of(&app).await?;
        let reasons_text = reasons
            .iter()
            .map(|r| match &r.field {
                Some(f) => format!("{f}：{}", r.reason),
                None => r.reason.clone(),
            })
            .collect::<Vec<_>>()
            .join("；");
        let t = t.decision(Decision {
            decision: kind,
            reasons,
            reviewer_id: user.id,
            at_ms: now.0,
        });
        if kind != DecisionKind::Approve {
            let text = if kind == DecisionKind::Reject {
                format!("您的备案申请（编号 {id}）审核未通过。原因：{reasons_text}")
            } else {
                format!("您的备案申请（编号 {id}）材料不全，已退回补正：{reasons_text}")
            };
            return self
                .transit(app, t.messages(self.notify(&filer, &text)))
                .await;
        }
        // A serial may collide with one already issued: draw again.
        for _ in 0..8 {
            let numbers = self.new_numbers(&app, &filer, now).await?;
            let list = numbers
                .iter()
                .map(|n| n.number.clone())
                .collect::<Vec<_>>()
                .join("、");
            let text = format!("您的备案申请（编号 {id}）审核通过，备案编号：{list}。");
            let t = t
                .clone()
                .numbers(numbers)
                .messages(self.notify(&filer, &text));
            match self.transit(app.clone(), t).await {
                Err(RegistryError::Store(StoreError::SerialTaken)) => continue,
                answer => return answer,
            }
        }
        Err(RegistryError::Internal(
            "no free filing number serial after 8 draws".into(),
        ))
    }

    pub(crate) async fn filer_of(&self, app: &Application) -> Result<User, RegistryError> {
        self.store
            .user_by_id(app.record.filer_id)
            .await?
            .ok_or_else(|| RegistryError::Internal("an application without its filer".into()))
    }

    /// One number per service: the registered district, this year, a
    /// random unused 8-digit serial, and the filer's next service counters.
    async fn new_numbers(
        &self,
        app: &Application,
        filer: &User,
        now: UnixMillis,
    ) -> Result<Vec<NumberRecord>, RegistryError> {
        let district = app
            .record
            .form
            .registered_place
            .district_code
            .clone()
            .unwrap_or_default();
        let issued = self.store.number_count_of_filer(filer.id).await?;
        let year = now.china_date().year;
        let mut out = Vec::new();
        for (i, filed) in app.record.form.services.iter().enumerate() {
            let serial = 10_000_000 + OsRng.next_u32() % 90_000_000;
            let service = u16::try_from(issued + i as i64 + 1)
                .ok()
                .filter(|n| *n <= 999)
                .ok_or_else(|| {
                    RegistryError::Internal("a filer's 999 service numbers are used up".into())
                })?;
            let number = FilingNumber::compose(&FilingNumberParts {
                district: district.trim().to_owned(),
                year: u16::try_from(year).unwrap_or(0),
                serial,
                service,
            })
            .ok_or_else(|| RegistryError::Internal("an approved form's district code".into()))?;
            out.push(NumberRecord {
                number: number.as_str().to_owned(),
                serial: i64::from(serial),
                application_id: app.record.id,
                service_index: i as i64,
                entity_name: app
                    .record
                    .form
                    .applicant_name()
                    .unwrap_or("")
                    .trim()
                    .to_owned(),
                service_name: filed.name.as_deref().unwrap_or("").trim().to_owned(),
                issued_at: now,
                batch: None,
                app_state: AppState::Approved,
            });
        }
        Ok(out)
    }
}

/// A decision's reasons: at most [`REASONS_MAX`], each 1 to
/// [`REASON_CHARS_MAX`] characters; rejecting or returning needs one.
fn check_reasons(kind: DecisionKind, reasons: &[Reason]) -> Result<(), RegistryError> {
    if reasons.len() > REASONS_MAX {
        return Err(RegistryError::BadDecision("too many reasons (at most 50)"));
    }
    if reasons.iter().any(|r| {
        r.reason.trim().is_empty()
            || r.reason.chars().count() > REASON_CHARS_MAX
            || r.field.as_ref().is_some_and(|f| f.len() > 200)
    }) {
        return Err(RegistryError::BadDecision(
            "every reason needs a text of 1 to 500 characters",
        ));
    }
    if kind != DecisionKind::Approve && reasons.is_empty() {
        return Err(RegistryError::BadDecision(
            "a rejection or a return for materials needs at least one reason",
        ));
    }
    Ok(())
}
