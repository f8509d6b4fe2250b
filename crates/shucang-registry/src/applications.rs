//! Drafts, the filer's applications, uploads and the audit trail; an
//! application is loaded once per action.

use crate::{
    ATTACHMENTS_MAX, AppState, Application, ApplicationForm, ApplicationRecord, AttachmentRecord,
    AuditEntry, PendingUpdate, PersonalDataView, PersonalDataViewRecord, Registry, RegistryError,
    Transition, User, UserRole, sniff, validate,
};

/// Records of unmasked views an auditor reads at once, at most.
pub const PERSONAL_DATA_VIEWS_PAGE_MAX: usize = 200;

impl Registry {
    /// Starts a draft, for a confirmed filer within the drafts quota.
    pub async fn create_draft(
        &self,
        user: &User,
        form: &ApplicationForm,
    ) -> Result<Application, RegistryError> {
        Self::confirmed_filer(user)?;
        let now = self.clock.now();
        let id = self
            .store
            .insert_application(
                user.id,
                &self.seal.seal(user.id, form),
                now,
                self.limits.drafts_max,
            )
            .await?
            .ok_or(RegistryError::DraftQuota)?;
        self.application(user, id).await
    }

    /// Replaces a draft's (or returned application's) form.
    pub async fn update_draft(
        &self,
        user: &User,
        id: i64,
        form: &ApplicationForm,
    ) -> Result<Application, RegistryError> {
        let mut app = self.application(user, id).await?;
        Self::filer_only(user)?;
        let now = self.clock.now();
        let sealed = self.seal.seal(app.record.filer_id, form);
        if !self.store.update_form(id, &sealed, now).await? {
            return Err(RegistryError::WrongState {
                state: app.record.state.code(),
                action: "editing",
            });
        }
        app.record.form = form.clone();
        app.record.version += 1;
        app.record.updated_at = now;
        self.derive(app)
    }

    /// An application: filers see only their own (others: not found);
    /// staff see all.
    pub async fn application(&self, user: &User, id: i64) -> Result<Application, RegistryError> {
        let record = self
            .store
            .application(id)
            .await?
            .ok_or(RegistryError::NotFound)?;
        if user.role == UserRole::Filer && record.filer_id != user.id {
            return Err(RegistryError::NotFound);
        }
        let mut app = self.load(record).await?;
        // Publishers and auditors see the application, not the identities
        // in it: their task does not need them.
        if matches!(user.role, UserRole::Publisher | UserRole::Auditor) {
            crate::sealed::mask_personal(&mut app.record);
        }
        Ok(app)
    }

    /// An application shown to `user` (a page or an API answer): as
    /// [`Registry::application`], and when a reviewer sees its personal
    /// data unmasked, that view is recorded for the auditors.
    pub async fn view_application(
        &self,
        user: &User,
        id: i64,
    ) -> Result<Application, RegistryError> {
        let app = self.application(user, id).await?;
        self.record_application_shown(user, id).await?;
        Ok(app)
    }

    /// Records that the application `id`, loaded with
    /// [`Registry::application`], was shown to `user` (a page showing it).
    pub async fn record_application_shown(
        &self,
        user: &User,
        id: i64,
    ) -> Result<(), RegistryError> {
        self.record_unmasked_view(user, id, "application".to_owned())
            .await
    }

    /// Records a view of personal data by staff who see it unmasked
    /// (reviewers; filers see only their own, the other staff masked).
    async fn record_unmasked_view(
        &self,
        user: &User,
        application_id: i64,
        item: String,
    ) -> Result<(), RegistryError> {
        if user.role != UserRole::Reviewer {
            return Ok(());
        }
        let view = PersonalDataView {
            user_id: user.id,
            application_id,
            item,
            at: self.clock.now(),
        };
        Ok(self.store.record_personal_data_view(&view).await?)
    }

    /// The recorded unmasked views, newest first (auditors only): at most
    /// `limit` (up to [`PERSONAL_DATA_VIEWS_PAGE_MAX`]), older than the
    /// record `before` when given.
    pub async fn personal_data_views(
        &self,
        user: &User,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<PersonalDataViewRecord>, RegistryError> {
        if user.role != UserRole::Auditor {
            return Err(RegistryError::Forbidden("auditor"));
        }
        let limit = limit.clamp(1, PERSONAL_DATA_VIEWS_PAGE_MAX);
        Ok(self.store.personal_data_views(before, limit).await?)
    }

    /// An application with its attachments and numbers.
    pub(crate) async fn load(
        &self,
        mut record: ApplicationRecord,
    ) -> Result<Application, RegistryError> {
        self.seal.open_record(&mut record)?;
        let attachments = self.store.attachments(record.id).await?;
        let numbers = self.store.numbers_of(record.id).await?;
        self.derive(Application {
            record,
            numbers,
            attachments,
            working_days_left: None,
            overdue: false,
            warnings: Vec::new(),
        })
    }

    /// Works out what is derived from the record: the deadline figures
    /// while in review, and the form's warnings.
    fn derive(&self, mut app: Application) -> Result<Application, RegistryError> {
        let today = self.today();
        (app.working_days_left, app.overdue) = match app.record.due_date {
            Some(due) if app.record.state.in_review() => {
                if today > due {
                    (Some(0), true)
                } else {
                    // Days left are counted like the deadline was: with
                    // weekdays in a year without a schedule.
                    let left = self
                        .calendar
                        .working_days_between_provisionally(today, due)?;
                    (Some(left.value), false)
                }
            }
            _ => (None, false),
        };
        let ids: Vec<i64> = app.attachments.iter().map(|a| a.id).collect();
        app.warnings = validate(&app.record.form, &ids, today).warnings;
        Ok(app)
    }

    /// Applies a transition built from `app`'s state and answers the
    /// application as it now is, without reading it again; `wrong_state`
    /// if it moved meanwhile.
    pub(crate) async fn transit(
        &self,
        mut app: Application,
        t: Transition,
    ) -> Result<Application, RegistryError> {
        debug_assert_eq!(t.from, app.record.state, "built from the loaded state");
        let stored = self.seal.seal_transition(app.record.filer_id, &t);
        if !self.store.transition(&stored).await? {
            return Err(RegistryError::WrongState {
                state: app.record.state.code(),
                action: t.action.doing(),
            });
        }
        if t.to == AppState::CancellationApproved {
            self.unsettle();
        }
        let r = &mut app.record;
        r.state = t.to;
        r.version += 1;
        r.updated_at = t.at;
        if let Some(d) = t.submitted {
            r.submitted_at = Some(d.submitted_at);
            r.due_date = Some(d.due);
            r.due_provisional = d.provisional;
        }
        if let Some(decision) = t.decision {
            r.decision = Some(decision);
        }
        let form_changed = t.form.is_some();
        if let Some(form) = t.form {
            r.form = form;
        }
        match t.pending {
            PendingUpdate::Keep => {}
            PendingUpdate::Set(p) => r.pending = Some(p),
            PendingUpdate::Clear => r.pending = None,
        }
        for n in &mut app.numbers {
            n.app_state = t.to;
        }
        app.numbers.extend(t.numbers);
        if form_changed || t.from.in_review() != t.to.in_review() {
            return self.derive(app);
        }
        Ok(app)
    }

    /// A filer's applications, newest first.
    pub async fn applications_of(&self, user: &User) -> Result<Vec<Application>, RegistryError> {
        let mut out = Vec::new();
        for r in self.store.applications_of(user.id).await? {
            out.push(self.load(r).await?);
        }
        Ok(out)
    }

    /// Stores an upload for an application in an editable state.
    pub async fn add_attachment(
        &self,
        user: &User,
        id: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<AttachmentRecord, RegistryError> {
        let app = self.application(user, id).await?;
        Self::confirmed_filer(user)?;
        // Drafts take documents, and approved filings for a change.
        if !app.record.state.is_editable() && app.record.state != AppState::Approved {
            return Err(RegistryError::WrongState {
                state: app.record.state.code(),
                action: "uploading",
            });
        }
        if app.attachments.len() >= ATTACHMENTS_MAX {
            return Err(RegistryError::TooManyAttachments);
        }
        let kind = sniff(file_name, bytes)?;
        // Checked before the file is written, and again atomically with
        // the row below: a request that loses that race leaves one
        // unreferenced content file behind, no more.
        let quota = self.limits.storage_bytes_max;
        let held = self.store.storage_of_filer(user.id).await?;
        if held.saturating_add(bytes.len() as i64) > quota {
            return Err(RegistryError::StorageQuota);
        }
        let name: String = file_name
            .chars()
            .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
            .take(200)
            .collect();
        let files = self.files.clone();
        let data = bytes.to_vec();
        let sha256 = tokio::task::spawn_blocking(move || files.put(&data))
            .await
            .map_err(|e| RegistryError::Internal(e.to_string()))?
            .map_err(|e| RegistryError::Internal(format!("writing an upload: {e}")))?;
        let mut record = AttachmentRecord {
            id: 0,
            application_id: id,
            file_name: if name.is_empty() {
                "upload".into()
            } else {
                name
            },
            mime: kind.mime().to_owned(),
            sha256,
            size: bytes.len() as i64,
            created_at: self.clock.now(),
        };
        record.id = self
            .store
            .insert_attachment(&record, user.id, quota)
            .await?
            .ok_or(RegistryError::StorageQuota)?;
        Ok(record)
    }

    /// An attachment's bytes and MIME type, for the filer and staff.
    pub async fn attachment_file(
        &self,
        user: &User,
        id: i64,
        attachment_id: i64,
    ) -> Result<(Vec<u8>, String), RegistryError> {
        // Documents are ID scans and licences: only the filer and reviewers.
        if matches!(user.role, UserRole::Publisher | UserRole::Auditor) {
            return Err(RegistryError::Forbidden("reviewer"));
        }
        let app = self.application(user, id).await?;
        let a = app
            .attachments
            .iter()
            .find(|a| a.id == attachment_id)
            .ok_or(RegistryError::NotFound)?;
        let bytes = self
            .files
            .get(&a.sha256)
            .map_err(|e| RegistryError::Internal(format!("reading an upload: {e}")))?;
        self.record_unmasked_view(user, id, format!("attachment {attachment_id}"))
            .await?;
        Ok((bytes, a.mime.clone()))
    }

    /// An application's audit trail (staff, or its filer).
    pub async fn audit_trail(
        &self,
        user: &User,
        id: i64,
    ) -> Result<Vec<AuditEntry>, RegistryError> {
        self.application(user, id).await?;
        Ok(self.store.audit_of(id).await?)
    }
}
