//! Filer and staff accounts: registration with the SMS code and the e-mail
//! link, login with lockout, sessions.

use shucang_auth::{Refusal, SessionToken, StoredLogin, hashes_equal};
use shucang_notify::{Channel, NewMessage};
use shucang_types::{Email, Phone};

use crate::{
    LOCKOUT, MINUTE_MS, NewSession, NewUser, PHONE_CODE_ATTEMPTS_MAX, Registry, RegistryError,
    SESSION_HOURS, StoreError, User, UserRole, VERIFICATION_MINUTES, WindowedEvent, email_token,
    invalid,
};

impl Registry {
    /// Registers a filer; queues the SMS code and the e-mail link. Each
    /// registration from `ip`, and each naming the e-mail address, counts
    /// against its hourly limit before any password is hashed or message
    /// queued.
    ///
    /// A number that is registered already gets the same answer, after the
    /// same work (the password is hashed all the same), so the answer does
    /// not tell a stranger who is registered: the number's owner is told by
    /// SMS instead, and nothing else changes.
    pub async fn register_filer(
        &self,
        person: &Person<'_>,
        ip: &str,
    ) -> Result<Registered, RegistryError> {
        let (name, phone, email) = Self::check_person(person)?;
        let password = person.password;
        let now = self.clock.now();
        let limits = [
            WindowedEvent::hourly(
                "register_ip",
                ip.to_owned(),
                now,
                self.limits.registrations_per_ip_per_hour,
            ),
            WindowedEvent::hourly(
                "register_email",
                email.as_str().to_owned(),
                now,
                self.limits.registrations_per_email_per_hour,
            ),
        ];
        for event in limits {
            if !self.store.count_in_window(&event).await? {
                return Err(RegistryError::RateLimited);
            }
        }
        let code = shucang_auth::six_digit_code();
        let token = email_token();
        let user = NewUser {
            role: UserRole::Filer,
            name: name.clone(),
            phone: phone.as_str().to_owned(),
            email: email.as_str().to_owned(),
            password_hash: self.passwords.hash(password).await?,
            phone_code_hash: Some(
                self.key
                    .keyed_hash(format!("sms:{phone}:{code}").as_bytes()),
            ),
            email_token_hash: Some(self.key.keyed_hash(format!("email:{token}").as_bytes())),
            verify_expires_at: now.plus_ms(VERIFICATION_MINUTES * MINUTE_MS),
            confirmed: false,
            created_at: now,
        };
        let messages = self.confirmation_messages(
            &name,
            (phone.as_str(), Some(&code)),
            (email.as_str(), Some(&token)),
        );
        match self.store.insert_user(&user, &messages).await {
            Ok(id) => Ok(Registered::New(id)),
            Err(StoreError::PhoneTaken) => {
                let notice = self.sealed(vec![NewMessage {
                    channel: Channel::Sms,
                    recipient: phone.as_str().to_owned(),
                    subject: String::new(),
                    body: "【区块链信息服务备案】有人用本手机号申请注册。该号码已注册，请直接登录；如非本人操作，请忽略本短信。".into(),
                }]);
                self.store.queue_messages(&notice, now).await?;
                Ok(Registered::AlreadyRegistered)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The SMS with `code` and the e-mail with the link for `token`, for
    /// whichever of the two is given.
    fn confirmation_messages(
        &self,
        name: &str,
        (phone, code): (&str, Option<&str>),
        (email, token): (&str, Option<&str>),
    ) -> Vec<NewMessage> {
        let mut messages = Vec::new();
        if let Some(code) = code {
            messages.push(NewMessage {
                channel: Channel::Sms,
                recipient: phone.to_owned(),
                subject: String::new(),
                body: format!(
                    "【区块链信息服务备案】您的验证码是 {code}，{VERIFICATION_MINUTES} 分钟内有效。"
                ),
            });
        }
        if let Some(token) = token {
            messages.push(NewMessage {
                channel: Channel::Email,
                recipient: email.to_owned(),
                subject: "确认您的电子邮箱 · 区块链信息服务备案管理系统".into(),
                body: format!(
                    "{name}，您好：\n请在 {VERIFICATION_MINUTES} 分钟内打开下面的链接确认邮箱：\n{}/filers/verify-email?token={token}\n",
                    self.base_url
                ),
            });
        }
        self.sealed(messages)
    }

    /// Sends a filer who has not confirmed their mobile or e-mail a new
    /// SMS code and/or a new e-mail link (the old ones stop working; the
    /// code's attempts start again), at most
    /// [`CONFIRMATION_RESENDS_PER_HOUR`] times an hour. Returns what is
    /// still to confirm: (mobile, e-mail); nothing is sent for a confirmed
    /// one.
    pub async fn resend_confirmations(&self, user: &User) -> Result<(bool, bool), RegistryError> {
        let (phone_open, email_open) = (!user.phone_verified, !user.email_verified);
        if user.role != UserRole::Filer || !(phone_open || email_open) {
            return Ok((phone_open, email_open));
        }
        let now = self.clock.now();
        let event = WindowedEvent::hourly(
            "resend_confirmations",
            user.id.to_string(),
            now,
            crate::CONFIRMATION_RESENDS_PER_HOUR,
        );
        if !self.store.count_in_window(&event).await? {
            return Err(RegistryError::RateLimited);
        }
        let code = phone_open.then(shucang_auth::six_digit_code);
        let token = email_open.then(email_token);
        let phone = &user.phone;
        let code_hash = code
            .as_ref()
            .map(|c| self.key.keyed_hash(format!("sms:{phone}:{c}").as_bytes()));
        let token_hash = token
            .as_ref()
            .map(|t| self.key.keyed_hash(format!("email:{t}").as_bytes()));
        let messages = self.confirmation_messages(
            &user.name,
            (phone, code.as_deref()),
            (&user.email, token.as_deref()),
        );
        let reissued = crate::Reissue {
            phone_code_hash: code_hash.as_deref(),
            email_token_hash: token_hash.as_deref(),
            expires_at: now.plus_ms(VERIFICATION_MINUTES * MINUTE_MS),
        };
        self.store
            .reissue_confirmations(user.id, &reissued, &messages, now)
            .await?;
        Ok((phone_open, email_open))
    }

    /// Creates a staff account (reviewer, publisher, auditor), confirmed.
    pub async fn create_staff(
        &self,
        role: UserRole,
        person: &Person<'_>,
    ) -> Result<i64, RegistryError> {
        if role == UserRole::Filer {
            return Err(invalid(
                "role",
                "staff roles are reviewer, publisher and auditor",
            ));
        }
        let (name, phone, email) = Self::check_person(person)?;
        let now = self.clock.now();
        let user = NewUser {
            role,
            name,
            phone: phone.as_str().to_owned(),
            email: email.as_str().to_owned(),
            password_hash: self.passwords.hash(person.password).await?,
            phone_code_hash: None,
            email_token_hash: None,
            verify_expires_at: now,
            confirmed: true,
            created_at: now,
        };
        match self.store.insert_user(&user, &[]).await {
            Ok(id) => Ok(id),
            Err(StoreError::PhoneTaken) => Err(RegistryError::PhoneTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// The registration's fields checked: the trimmed name, the phone and
    /// the e-mail address (the password is checked against the policy).
    fn check_person(person: &Person<'_>) -> Result<(String, Phone, Email), RegistryError> {
        let name = person.name.trim();
        let chars = name.chars().count();
        if !(2..=50).contains(&chars) || name.chars().any(char::is_control) {
            return Err(invalid("name", "a real name of 2 to 50 characters"));
        }
        let phone = Phone::parse(person.phone).map_err(|e| invalid("phone", e.to_string()))?;
        let email = Email::parse(person.email).map_err(|e| invalid("email", e.to_string()))?;
        shucang_types::check_password(person.password, phone.as_str())
            .map_err(|e| invalid("password", e.to_string()))?;
        Ok((name.to_owned(), phone, email))
    }

    /// Deletes expired sessions (the server's worker runs this every
    /// minute, so the table holds only live ones), and counting windows a
    /// day old; how many sessions.
    pub async fn purge_expired_sessions(&self) -> Result<u64, RegistryError> {
        let now = self.clock.now();
        self.store
            .purge_windows(now.plus_ms(-24 * 60 * MINUTE_MS))
            .await?;
        Ok(self.store.delete_expired_sessions(now).await?)
    }

    /// Confirms a filer's mobile with the SMS code.
    pub async fn verify_phone(&self, phone: &str, code: &str) -> Result<(), RegistryError> {
        let Ok(phone) = Phone::parse(phone) else {
            return Err(RegistryError::VerificationFailed);
        };
        let Some(user) = self.store.user_by_phone(phone.as_str()).await? else {
            return Err(RegistryError::VerificationFailed);
        };
        // A confirmed number has no code left: any code is refused, as for
        // a number nobody registered, so the answer says nothing about who
        // holds an account.
        if user.phone_verified {
            return Err(RegistryError::VerificationFailed);
        }
        // The attempt is spent before the code is compared, in one
        // statement, so parallel guesses get no more than the limit.
        let Some(pending) = self
            .store
            .spend_phone_code_attempt(user.id, PHONE_CODE_ATTEMPTS_MAX, self.clock.now())
            .await?
        else {
            return Err(RegistryError::VerificationFailed);
        };
        let given = self
            .key
            .keyed_hash(format!("sms:{phone}:{}", code.trim()).as_bytes());
        let matches = hashes_equal(&pending, &given);
        if matches && self.store.confirm_phone(user.id, &pending).await? {
            return Ok(());
        }
        Err(RegistryError::VerificationFailed)
    }

    /// Confirms an e-mail address with the link's token.
    pub async fn verify_email(&self, token: &str) -> Result<i64, RegistryError> {
        let token = token.trim();
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RegistryError::VerificationFailed);
        }
        let hash = self.key.keyed_hash(format!("email:{token}").as_bytes());
        self.store
            .confirm_email(&hash, self.clock.now())
            .await?
            .ok_or(RegistryError::VerificationFailed)
    }

    /// Logs in by mobile and password.
    pub async fn login(&self, phone: &str, password: &str) -> Result<NewSession, RegistryError> {
        let user = match Phone::parse(phone) {
            Ok(p) => self.store.user_by_phone(p.as_str()).await?,
            Err(_) => None,
        };
        let now = self.clock.now();
        let stored = user
            .as_ref()
            .map(|u| StoredLogin::new(u.id, &u.password_hash, u.locked_until));
        let decision = self
            .passwords
            .decide_login::<RegistryError>(
                stored,
                password,
                &LOCKOUT,
                now,
                async |id, failure| Ok(self.store.record_login_failure(id, &failure).await?),
                async |id| Ok(self.store.admit_login(id, now).await?),
            )
            .await?;
        let (Some(user), Ok(())) = (user, decision) else {
            return Err(match decision {
                Err(Refusal::Locked { until }) => RegistryError::Locked { until },
                _ => RegistryError::InvalidCredentials,
            });
        };
        let token = SessionToken::generate();
        self.store
            .insert_session(
                &self.key.token_hash(&token),
                user.id,
                now.plus_ms(SESSION_HOURS * 60 * MINUTE_MS),
            )
            .await?;
        Ok(NewSession {
            token: token.expose().to_owned(),
            user,
        })
    }

    /// The user behind a bearer token.
    pub async fn authenticate(&self, token: &str) -> Result<Option<User>, RegistryError> {
        let token = SessionToken::from_client(token);
        if !token.is_plausible() {
            return Ok(None);
        }
        let hash = self.key.token_hash(&token);
        let Some((user_id, expires_at)) = self.store.session(&hash).await? else {
            return Ok(None);
        };
        if expires_at <= self.clock.now() {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        Ok(self.store.user_by_id(user_id).await?)
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<(), RegistryError> {
        Ok(self
            .store
            .delete_session(&self.key.token_hash(&SessionToken::from_client(token)))
            .await?)
    }

    pub(crate) fn filer_only(user: &User) -> Result<(), RegistryError> {
        if user.role != UserRole::Filer {
            return Err(RegistryError::Forbidden("filer"));
        }
        Ok(())
    }

    /// A filer who has confirmed both mobile and e-mail: only they may
    /// start drafts, upload or submit, so an unconfirmed registration
    /// cannot make the registry keep anything.
    pub(crate) fn confirmed_filer(user: &User) -> Result<(), RegistryError> {
        Self::filer_only(user)?;
        if !user.phone_verified || !user.email_verified {
            return Err(RegistryError::Unconfirmed);
        }
        Ok(())
    }
}

/// Who registers: the fields of the registration form.
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    /// Real name.
    pub name: &'a str,
    /// Mainland mobile number.
    pub phone: &'a str,
    /// E-mail address.
    pub email: &'a str,
    /// Password.
    pub password: &'a str,
}

/// What a registration did; both answer the same to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// A new filer with this id; the code and link are queued.
    New(i64),
    /// The number was registered already; its owner was told by SMS.
    AlreadyRegistered,
}
