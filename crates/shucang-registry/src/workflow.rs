//! The application workflow as data: the states, the actions, and one
//! table of (state, action) → state with who may take each step
//! ([`STEPS`]). A [`Transition`] is built from that table, so no code
//! names a target state by hand, and the store applies it atomically only
//! from the state it was built from.
//!
//! To add a workflow step: add the [`Action`] (its audit code and what the
//! error says it was doing), add its row to [`STEPS`], then build the
//! transition with [`Transition::step`] in the service method that takes it.

use serde::{Deserialize, Serialize};
use shucang_calendar::Reckoned;
use shucang_notify::NewMessage;
use shucang_types::{Date, UnixMillis};

use crate::{ApplicationForm, NumberRecord, Pending, RegistryError, User, UserRole};

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AppState {
    /// Being written by the filer (草稿).
    Draft,
    /// Submitted, not yet opened by a reviewer (未审核).
    Submitted,
    /// A reviewer is on it (审核中).
    UnderReview,
    /// Approved, numbers issued (审核通过).
    Approved,
    /// Rejected with reasons (审核未通过).
    Rejected,
    /// Returned for missing materials: the filer completes and resubmits.
    Returned,
    /// Approved, with a recorded change under review (the number stays valid).
    ChangePending,
    /// Approved, with a cancellation under review.
    CancellationPending,
    /// Cancellation approved; cancelled on the termination date.
    CancellationApproved,
    /// Cancelled (已注销); its numbers are never issued again.
    Cancelled,
}

impl AppState {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            AppState::Draft => "draft",
            AppState::Submitted => "submitted",
            AppState::UnderReview => "under_review",
            AppState::Approved => "approved",
            AppState::Rejected => "rejected",
            AppState::Returned => "returned",
            AppState::ChangePending => "change_pending",
            AppState::CancellationPending => "cancellation_pending",
            AppState::CancellationApproved => "cancellation_approved",
            AppState::Cancelled => "cancelled",
        }
    }

    /// The state with this code.
    pub fn from_code(code: &str) -> Option<AppState> {
        AppState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The public name of the four review states.
    pub fn public_name(self) -> Option<&'static str> {
        match self {
            AppState::Submitted => Some("未审核"),
            AppState::UnderReview => Some("审核中"),
            AppState::Approved
            | AppState::ChangePending
            | AppState::CancellationPending
            | AppState::CancellationApproved => Some("审核通过"),
            AppState::Rejected => Some("审核未通过"),
            AppState::Cancelled => Some("已注销"),
            AppState::Draft | AppState::Returned => None,
        }
    }

    /// Every state.
    pub const ALL: [AppState; 10] = [
        AppState::Draft,
        AppState::Submitted,
        AppState::UnderReview,
        AppState::Approved,
        AppState::Rejected,
        AppState::Returned,
        AppState::ChangePending,
        AppState::CancellationPending,
        AppState::CancellationApproved,
        AppState::Cancelled,
    ];

    /// States in which the filer may edit the form.
    pub const EDITABLE: [AppState; 2] = [AppState::Draft, AppState::Returned];

    /// States a reviewer works on (the queue), with a running deadline.
    pub const IN_REVIEW: [AppState; 4] = [
        AppState::Submitted,
        AppState::UnderReview,
        AppState::ChangePending,
        AppState::CancellationPending,
    ];

    /// Whether the filer may edit the form.
    pub fn is_editable(self) -> bool {
        AppState::EDITABLE.contains(&self)
    }

    /// Whether a reviewer's deadline runs.
    pub fn in_review(self) -> bool {
        AppState::IN_REVIEW.contains(&self)
    }
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Approve: numbers are issued.
    Approve,
    /// Reject, with reasons.
    Reject,
    /// Materials incomplete: back to the filer with the list.
    Incomplete,
}

/// One reason, optionally tied to a field.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The field's path, if the reason is about one.
    #[serde(default)]
    pub field: Option<String>,
    /// The reason.
    pub reason: String,
}

/// A decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// What was decided.
    pub decision: DecisionKind,
    /// Why.
    pub reasons: Vec<Reason>,
    /// By whom (user id).
    pub reviewer_id: i64,
    /// When (UTC milliseconds).
    pub at_ms: i64,
}

/// What someone does to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The filer submits a draft or a returned application.
    Submit,
    /// A reviewer opens a submitted application.
    Open,
    /// A reviewer approves: numbers are issued.
    Approve,
    /// A reviewer rejects, with reasons.
    Reject,
    /// A reviewer returns it for missing materials.
    ReturnForMaterials,
    /// The filer records a change of an approved filing.
    RecordChange,
    /// The filer files a cancellation.
    FileCancellation,
    /// A reviewer approves a recorded change (the form is replaced).
    ApproveChange,
    /// A reviewer rejects a recorded change (the filing stays as it was).
    RejectChange,
    /// A reviewer approves a cancellation (it takes effect on its date).
    ApproveCancellation,
    /// A reviewer rejects a cancellation.
    RejectCancellation,
    /// The registry cancels the filing on its termination date.
    Terminate,
    /// The registry recomputes a provisional deadline once the holidays of
    /// the year it reached are loaded.
    SettleDeadline,
}

impl Action {
    /// The stable code in the audit trail.
    pub fn code(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Open => "open",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::ReturnForMaterials => "incomplete",
            Action::RecordChange => "change",
            Action::FileCancellation => "cancel",
            Action::ApproveChange => "approve_change",
            Action::RejectChange => "reject_change",
            Action::ApproveCancellation => "approve_cancellation",
            Action::RejectCancellation => "reject_cancellation",
            Action::Terminate => "cancelled",
            Action::SettleDeadline => "deadline",
        }
    }

    /// What a refusal says was being done.
    pub fn doing(self) -> &'static str {
        match self {
            Action::Submit => "submitting",
            Action::Open => "opening",
            Action::Approve | Action::Reject | Action::ReturnForMaterials => "deciding",
            Action::RecordChange => "recording a change",
            Action::FileCancellation => "cancelling",
            Action::ApproveChange
            | Action::RejectChange
            | Action::ApproveCancellation
            | Action::RejectCancellation => "changing",
            Action::Terminate => "terminating",
            Action::SettleDeadline => "recomputing the deadline",
        }
    }
}

/// Who may take a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The application's filer.
    Filer,
    /// A reviewer.
    Reviewer,
    /// The registry itself (a date has come).
    Registry,
}

/// One row of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The state it starts from.
    pub from: AppState,
    /// What is done.
    pub action: Action,
    /// The state it leads to.
    pub to: AppState,
    /// Who may do it.
    pub by: Actor,
}

const fn step(from: AppState, action: Action, to: AppState, by: Actor) -> Step {
    Step {
        from,
        action,
        to,
        by,
    }
}

/// The whole workflow (PRODUCT.md §6).
pub const STEPS: &[Step] = {
    use Action as A;
    use Actor::{Filer, Registry, Reviewer};
    use AppState as S;
    &[
        step(S::Draft, A::Submit, S::Submitted, Filer),
        step(S::Returned, A::Submit, S::Submitted, Filer),
        step(S::Submitted, A::Open, S::UnderReview, Reviewer),
        step(S::UnderReview, A::Approve, S::Approved, Reviewer),
        step(S::UnderReview, A::Reject, S::Rejected, Reviewer),
        step(S::UnderReview, A::ReturnForMaterials, S::Returned, Reviewer),
        step(S::Approved, A::RecordChange, S::ChangePending, Filer),
        step(
            S::Approved,
            A::FileCancellation,
            S::CancellationPending,
            Filer,
        ),
        step(S::ChangePending, A::ApproveChange, S::Approved, Reviewer),
        step(S::ChangePending, A::RejectChange, S::Approved, Reviewer),
        step(
            S::CancellationPending,
            A::ApproveCancellation,
            S::CancellationApproved,
            Reviewer,
        ),
        step(
            S::CancellationPending,
            A::RejectCancellation,
            S::Approved,
            Reviewer,
        ),
        step(
            S::CancellationApproved,
            A::Terminate,
            S::Cancelled,
            Registry,
        ),
        step(S::Submitted, A::SettleDeadline, S::Submitted, Registry),
        step(S::UnderReview, A::SettleDeadline, S::UnderReview, Registry),
        step(
            S::ChangePending,
            A::SettleDeadline,
            S::ChangePending,
            Registry,
        ),
        step(
            S::CancellationPending,
            A::SettleDeadline,
            S::CancellationPending,
            Registry,
        ),
    ]
};

/// The step `action` takes from `from`, if the workflow has one.
pub fn find_step(from: AppState, action: Action) -> Option<&'static Step> {
    STEPS.iter().find(|s| s.from == from && s.action == action)
}

/// A submission's review deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// When it was submitted.
    pub submitted_at: UnixMillis,
    /// The last day of the review.
    pub due: Date,
    /// The year without a holiday schedule that `due` was reckoned into
    /// (weekdays counted): the date is provisional (暂定) until that
    /// year's schedule is loaded.
    pub provisional: Option<i32>,
}

/// A state change with everything that goes with it, applied atomically
/// only if the application is still in `from`. Build it with
/// [`Transition::step`] and the setters; what is not set is left as it is.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The application.
    pub application_id: i64,
    /// The state it must be in.
    pub from: AppState,
    /// The state it moves to.
    pub to: AppState,
    /// What is done (its code goes to the audit trail).
    pub action: Action,
    /// When.
    pub at: UnixMillis,
    /// Who (user id; 0 for the registry itself).
    pub actor_id: i64,
    /// Details for the audit trail (a JSON object, see `codec`).
    pub detail: String,
    /// Set on submission (and when a provisional deadline is settled):
    /// when, and the review deadline.
    pub submitted: Option<Deadline>,
    /// Set on a decision.
    pub decision: Option<Decision>,
    /// Numbers issued by this step.
    pub numbers: Vec<NumberRecord>,
    /// Messages to the filer.
    pub messages: Vec<NewMessage>,
    /// Replaces the form (an approved change).
    pub form: Option<ApplicationForm>,
    /// What happens to the pending change or cancellation.
    pub pending: PendingUpdate,
}

impl Transition {
    /// The transition `action` makes from `from`, by `user` (`None` for the
    /// registry itself): refused with `wrong_state` when the workflow has
    /// no such step, and `forbidden` when the user may not take it.
    pub fn step(
        application_id: i64,
        from: AppState,
        action: Action,
        user: Option<&User>,
        at: UnixMillis,
    ) -> Result<Transition, RegistryError> {
        let step = find_step(from, action).ok_or(RegistryError::WrongState {
            state: from.code(),
            action: action.doing(),
        })?;
        let allowed = match (step.by, user) {
            (Actor::Filer, Some(u)) => u.role == UserRole::Filer,
            (Actor::Reviewer, Some(u)) => u.role == UserRole::Reviewer,
            (Actor::Registry, None) => true,
            _ => false,
        };
        if !allowed {
            return Err(RegistryError::Forbidden(match step.by {
                Actor::Filer => "filer",
                Actor::Reviewer => "reviewer",
                Actor::Registry => "registry",
            }));
        }
        Ok(Transition {
            application_id,
            from,
            to: step.to,
            action,
            at,
            actor_id: user.map_or(0, |u| u.id),
            detail: "{}".into(),
            submitted: None,
            decision: None,
            numbers: Vec::new(),
            messages: Vec::new(),
            form: None,
            pending: PendingUpdate::Keep,
        })
    }

    /// Sets the audit detail (a JSON object).
    pub fn detail(mut self, detail: String) -> Transition {
        self.detail = detail;
        self
    }

    /// Records a submission at `self.at` with its review deadline.
    pub fn submitted(mut self, due: Reckoned<Date>) -> Transition {
        self.submitted = Some(Deadline {
            submitted_at: self.at,
            due: due.value,
            provisional: due.provisional,
        });
        self
    }

    /// Sets the review deadline of a submission made at `submitted_at`.
    pub fn deadline(mut self, submitted_at: UnixMillis, due: Reckoned<Date>) -> Transition {
        self.submitted = Some(Deadline {
            submitted_at,
            due: due.value,
            provisional: due.provisional,
        });
        self
    }

    /// Records a decision (also the audit detail).
    pub fn decision(mut self, decision: Decision) -> Transition {
        self.detail = crate::codec::encode_decision(&decision);
        self.decision = Some(decision);
        self
    }

    /// Issues numbers.
    pub fn numbers(mut self, numbers: Vec<NumberRecord>) -> Transition {
        self.numbers = numbers;
        self
    }

    /// Notifies the filer.
    pub fn messages(mut self, messages: Vec<NewMessage>) -> Transition {
        self.messages = messages;
        self
    }

    /// Replaces the form.
    pub fn form(mut self, form: ApplicationForm) -> Transition {
        self.form = Some(form);
        self
    }

    /// Sets or clears the pending request.
    pub fn pending(mut self, pending: PendingUpdate) -> Transition {
        self.pending = pending;
        self
    }
}

/// What a transition does to an application's pending change or
/// cancellation.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingUpdate {
    /// Leave it.
    Keep,
    /// Set it.
    Set(Pending),
    /// Clear it.
    Clear,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_code_reads_back() {
        for s in AppState::ALL {
            assert_eq!(AppState::from_code(s.code()), Some(s));
        }
        assert_eq!(AppState::from_code("nonsense"), None);
    }

    #[test]
    fn the_table_has_one_step_per_state_and_action() {
        for (i, a) in STEPS.iter().enumerate() {
            for b in &STEPS[i + 1..] {
                assert!(!(a.from == b.from && a.action == b.action), "{a:?} twice");
            }
        }
    }

    #[test]
    fn finished_states_lead_nowhere_and_every_state_is_reached() {
        for s in [AppState::Rejected, AppState::Cancelled] {
            assert!(STEPS.iter().all(|t| t.from != s), "{s:?} is final");
        }
        for s in AppState::ALL {
            assert!(
                s == AppState::Draft || STEPS.iter().any(|t| t.to == s),
                "{s:?} is unreachable"
            );
        }
    }

    fn user(role: UserRole) -> User {
        User {
            id: 7,
            role,
            name: "张三".into(),
            phone: "13912345678".into(),
            email: "a@example.cn".into(),
            password_hash: String::new(),
            phone_verified: true,
            email_verified: true,
            phone_code_hash: None,
            phone_code_attempts: 0,
            verify_expires_at: UnixMillis(0),
            failed_logins: 0,
            locked_until: None,
        }
    }

    #[test]
    fn transitions_follow_the_table_and_its_actors() {
        let filer = user(UserRole::Filer);
        let reviewer = user(UserRole::Reviewer);
        let at = UnixMillis(1);
        let t = Transition::step(1, AppState::Draft, Action::Submit, Some(&filer), at).unwrap();
        assert_eq!((t.to, t.actor_id), (AppState::Submitted, 7));
        assert!(matches!(
            Transition::step(1, AppState::Draft, Action::Submit, Some(&reviewer), at),
            Err(RegistryError::Forbidden("filer"))
        ));
        assert!(matches!(
            Transition::step(1, AppState::Approved, Action::Approve, Some(&reviewer), at),
            Err(RegistryError::WrongState {
                state: "approved",
                action: "deciding"
            })
        ));
        let t = Transition::step(
            1,
            AppState::CancellationApproved,
            Action::Terminate,
            None,
            at,
        )
        .unwrap();
        assert_eq!((t.to, t.actor_id), (AppState::Cancelled, 0));
        assert!(matches!(
            Transition::step(1, AppState::Submitted, Action::Open, None, at),
            Err(RegistryError::Forbidden("reviewer"))
        ));
    }
}
