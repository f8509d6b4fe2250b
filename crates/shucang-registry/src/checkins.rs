//! Periodic check-ins (Art. 14 of the blockchain-service rules): a
//! publisher opens a window; filers of valid filings confirm their
//! information inside it (an update goes through a recorded change, then
//! the confirmation); those who have not are listed, and once the window
//! has closed they are the ones who missed it.

use crate::{AppState, CheckinRecord, ConfirmationRecord, Registry, RegistryError, User, UserRole};

/// Longest window, in days.
pub const CHECKIN_DAYS_MAX: i64 = 366;
/// Longest confirmation note, in characters.
pub const CHECKIN_NOTE_CHARS_MAX: usize = 500;

/// A filing in a check-in: its application, entity and numbers.
#[derive(Debug, Clone)]
pub struct CheckinEntry {
    /// The application.
    pub application_id: i64,
    /// The applicant's name.
    pub entity_name: String,
    /// Its filing numbers.
    pub numbers: Vec<String>,
    /// When it confirmed, if it did.
    pub confirmed_at: Option<shucang_types::UnixMillis>,
}

/// A check-in window and where every valid filing stands in it.
#[derive(Debug, Clone)]
pub struct Checkin {
    /// The window.
    pub record: CheckinRecord,
    /// Whether today is past the last day.
    pub closed: bool,
    /// Filings that confirmed.
    pub confirmed: Vec<CheckinEntry>,
    /// Filings that have not (once closed: that missed it).
    pub missing: Vec<CheckinEntry>,
}

/// States whose filings are valid, and so owe a check-in.
const VALID: [AppState; 4] = [
    AppState::Approved,
    AppState::ChangePending,
    AppState::CancellationPending,
    AppState::CancellationApproved,
];

impl Registry {
    /// Opens a check-in window from `opens_on` to `closes_on` (inclusive).
    pub async fn open_checkin(
        &self,
        user: &User,
        opens_on: &str,
        closes_on: &str,
    ) -> Result<Checkin, RegistryError> {
        Self::staff(user, UserRole::Publisher)?;
        let bad = |field: &'static str, message: &str| RegistryError::Invalid {
            field,
            message: message.to_owned(),
        };
        let opens = crate::lifecycle::parse_day(opens_on, "opens_on")?;
        let closes = crate::lifecycle::parse_day(closes_on, "closes_on")?;
        if opens < self.today() {
            return Err(bad("opens_on", "a window opens today or later"));
        }
        let days = closes.days_since_epoch() - opens.days_since_epoch();
        if !(0..CHECKIN_DAYS_MAX).contains(&days) {
            return Err(bad("closes_on", "on or after opens_on, within a year"));
        }
        let mut record = CheckinRecord {
            id: 0,
            opens_on: opens,
            closes_on: closes,
            created_by: user.id,
            created_at: self.clock.now(),
        };
        record.id = self.store.insert_checkin(&record).await?;
        tracing::info!(
            id = record.id,
            opens_on,
            closes_on,
            "check-in window opened"
        );
        self.checkin(user, record.id).await
    }

    /// Window `id` as stored.
    async fn checkin_record(&self, id: i64) -> Result<CheckinRecord, RegistryError> {
        let record = self.store.checkin(id).await?;
        record.ok_or(RegistryError::CheckinNotFound)
    }

    /// A window with its confirmed and missing filings (publishers).
    pub async fn checkin(&self, user: &User, id: i64) -> Result<Checkin, RegistryError> {
        Self::staff(user, UserRole::Publisher)?;
        let record = self.checkin_record(id).await?;
        let confirmations = self.store.confirmations(id).await?;
        let (mut confirmed, mut missing) = (Vec::new(), Vec::new());
        for app in self.store.applications_in(&VALID).await? {
            let numbers = self
                .store
                .numbers_of(app.id)
                .await?
                .into_iter()
                .map(|n| n.number)
                .collect();
            let at = confirmations
                .iter()
                .find(|c| c.application_id == app.id)
                .map(|c| c.at);
            let entry = CheckinEntry {
                application_id: app.id,
                entity_name: app.form.applicant_name().unwrap_or("").to_owned(),
                numbers,
                confirmed_at: at,
            };
            if at.is_some() {
                confirmed.push(entry);
            } else {
                missing.push(entry);
            }
        }
        let closed = self.today() > record.closes_on;
        Ok(Checkin {
            record,
            closed,
            confirmed,
            missing,
        })
    }

    /// Every window, newest first (publishers).
    pub async fn checkins(&self, user: &User) -> Result<Vec<CheckinRecord>, RegistryError> {
        Self::staff(user, UserRole::Publisher)?;
        Ok(self.store.checkins().await?)
    }

    /// The windows open today, for filers to see.
    pub async fn open_checkins(&self) -> Result<Vec<CheckinRecord>, RegistryError> {
        let today = self.today();
        let mut open = Vec::new();
        for c in self.store.checkins().await? {
            if c.opens_on <= today && today <= c.closes_on {
                open.push(c);
            }
        }
        Ok(open)
    }

    /// The applications that confirmed in a window.
    pub async fn confirmed_applications(&self, checkin: i64) -> Result<Vec<i64>, RegistryError> {
        Ok(self
            .store
            .confirmations(checkin)
            .await?
            .iter()
            .map(|c| c.application_id)
            .collect())
    }

    /// A filer confirms a filing's information inside the window.
    pub async fn confirm_checkin(
        &self,
        user: &User,
        id: i64,
        number: &str,
        note: &str,
    ) -> Result<ConfirmationRecord, RegistryError> {
        Self::filer_only(user)?;
        let record = self.checkin_record(id).await?;
        let today = self.today();
        if today < record.opens_on || today > record.closes_on {
            return Err(RegistryError::CheckinClosed(
                record.opens_on.to_string(),
                record.closes_on.to_string(),
            ));
        }
        let app = self.filing(user, number).await?;
        if !VALID.contains(&app.record.state) {
            return Err(RegistryError::WrongState {
                state: app.record.state.code(),
                action: "confirming",
            });
        }
        let note = note.trim();
        if note.chars().count() > CHECKIN_NOTE_CHARS_MAX || note.chars().any(char::is_control) {
            return Err(RegistryError::Invalid {
                field: "note",
                message: format!("at most {CHECKIN_NOTE_CHARS_MAX} characters"),
            });
        }
        let c = ConfirmationRecord {
            checkin_id: id,
            application_id: app.record.id,
            confirmed_by: user.id,
            note: note.to_owned(),
            at: self.clock.now(),
        };
        if !self.store.insert_confirmation(&c).await? {
            return Err(RegistryError::AlreadyConfirmed);
        }
        Ok(c)
    }
}
