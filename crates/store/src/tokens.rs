//! Publishers' tokens: shown once when made, stored only as a SHA-256 hash; and the
//! sign-in sessions an agency opens with one (the session id is kept only as a hash
//! too, and a session ends with its token).

use sqlx::Row;

use crate::{now, rfc3339, sha256_hex, unix_now, Store, StoreError};

/// A token as the database knows it (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub token_id: String,
    pub publisher: String,
    pub ocid_prefix: String,
    pub created_at: String,
    /// Scopes beyond writing the ocid prefix's processes: `bods:write` (publish
    /// ownership statements), `plan:N` (update commitment N of the action plan and
    /// answer and moderate its questions), `plan:moderate` (moderate every
    /// commitment's questions).
    pub scopes: Vec<String>,
}

/// Whether `scope` is one the platform knows.
pub fn valid_scope(scope: &str) -> bool {
    scope == "bods:write"
        || scope == "plan:moderate"
        || scope
            .strip_prefix("plan:")
            .is_some_and(|n| n.parse::<u16>().is_ok_and(|n| (1..=99).contains(&n)))
}

impl TokenInfo {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The commitments whose progress this token may update (`plan:N`), in order.
    pub fn plan_commitments(&self) -> Vec<u32> {
        let mut numbers: Vec<u32> = self
            .scopes
            .iter()
            .filter_map(|s| s.strip_prefix("plan:")?.parse().ok())
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    /// Whether the token may moderate questions on commitment `n`: `plan:moderate`,
    /// or the lead agency's own `plan:N`.
    pub fn may_moderate(&self, n: u32) -> bool {
        self.has_scope("plan:moderate") || self.has_scope(&format!("plan:{n}"))
    }

    /// Whether the token acts for the lead agency of commitment `n` (`plan:N`): it may
    /// update the commitment's progress and answer its questions.
    pub fn may_update_commitment(&self, n: u32) -> bool {
        self.has_scope(&format!("plan:{n}"))
    }

    /// Whether the token has any action-plan scope (and so may sign in to the plan's pages).
    pub fn has_plan_scope(&self) -> bool {
        self.scopes.iter().any(|s| s.starts_with("plan:"))
    }

    /// Whether this token may write the process `ocid`.
    ///
    /// An ocid is the prefix, a dash, and the publisher's own identifier: the
    /// dash matters, or a token for `ocds-abc123` could write `ocds-abc1234-…`.
    pub fn may_write(&self, ocid: &str) -> bool {
        !self.ocid_prefix.is_empty()
            && ocid
                .strip_prefix(self.ocid_prefix.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|local| !local.is_empty())
    }
}

/// A token just made: the secret is in `token`, and nowhere else.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: String,
    pub info: TokenInfo,
}

/// `bytes` random bytes from the operating system, as hex.
pub(crate) fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| StoreError::Invalid {
        field: "token",
        message: format!("the operating system gave no random bytes: {e}"),
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

impl Store {
    /// Make a token for `publisher` that may write processes whose ocid starts with `ocid_prefix`.
    pub async fn create_token(
        &self,
        publisher: &str,
        ocid_prefix: &str,
    ) -> Result<NewToken, StoreError> {
        self.create_token_scoped(publisher, Some(ocid_prefix), &[])
            .await
    }

    /// Make a token with an optional ocid prefix and further scopes (see
    /// [`TokenInfo::scopes`]); it must be able to write something.
    pub async fn create_token_scoped(
        &self,
        publisher: &str,
        ocid_prefix: Option<&str>,
        scopes: &[String],
    ) -> Result<NewToken, StoreError> {
        let publisher = publisher.trim();
        if let Some(bad) = scopes.iter().find(|s| !valid_scope(s)) {
            return Err(StoreError::Invalid {
                field: "scope",
                message: format!(
                    "{bad:?} is not a scope: use `bods:write`, `plan:N` (a commitment number) or `plan:moderate`"
                ),
            });
        }
        if ocid_prefix.is_none() && scopes.is_empty() {
            return Err(StoreError::Invalid {
                field: "scope",
                message: "a token needs an ocid prefix or a scope, or it could write nothing"
                    .into(),
            });
        }
        let ocid_prefix = ocid_prefix.unwrap_or("").trim();
        if publisher.is_empty() {
            return Err(StoreError::Invalid {
                field: "publisher",
                message: "a token needs the publisher's name".into(),
            });
        }
        // An ocid prefix is `ocds-` and the six letters and digits the registry assigned.
        let registered = ocid_prefix
            .strip_prefix("ocds-")
            .is_some_and(|p| p.len() == 6 && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !registered && !ocid_prefix.is_empty() || ocid_prefix.is_empty() && scopes.is_empty() {
            return Err(StoreError::Invalid {
                field: "ocid_prefix",
                message: format!(
                    "{ocid_prefix:?} is not an ocid prefix: `ocds-` and the six letters and digits it was registered with, e.g. `ocds-abc123`"
                ),
            });
        }
        let token_id = random_hex(6)?;
        let token = format!("tuw_{token_id}_{}", random_hex(32)?);
        let info = TokenInfo {
            token_id,
            publisher: publisher.to_owned(),
            ocid_prefix: ocid_prefix.to_owned(),
            created_at: now(),
            scopes: scopes.to_vec(),
        };
        sqlx::query(&self.sql(
            "INSERT INTO tokens (token_id, token_hash, publisher, ocid_prefix, created_at, scopes) VALUES (?, ?, ?, ?, ?, ?)",
        ))
        .bind(&info.token_id)
        .bind(sha256_hex(token.as_bytes()))
        .bind(&info.publisher)
        .bind(&info.ocid_prefix)
        .bind(&info.created_at)
        .bind(info.scopes.join(" "))
        .execute(&self.pool)
        .await?;
        Ok(NewToken { token, info })
    }

    /// The token behind a secret, if it exists and is not revoked.
    pub async fn token(&self, secret: &str) -> Result<Option<TokenInfo>, StoreError> {
        let row = sqlx::query(&self.sql(
            "SELECT token_id, publisher, ocid_prefix, created_at, scopes FROM tokens WHERE token_hash = ? AND revoked_at IS NULL",
        ))
        .bind(sha256_hex(secret.as_bytes()))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| token_info(&r)).transpose()
    }

    /// Revoke a token by its id (the part after `tuw_`). Returns whether it existed.
    pub async fn revoke_token(&self, token_id: &str) -> Result<bool, StoreError> {
        let n = sqlx::query(
            &self.sql("UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL"),
        )
        .bind(now())
        .bind(token_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}

/// An agency's sign-in session, as the pages see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The token it was opened with (still valid: a revoked token ends its sessions).
    pub token: TokenInfo,
    /// The secret every form of the session carries (CSRF protection).
    pub csrf: String,
    pub created_at: String,
    pub expires_at: String,
}

/// Rows of `tokens` as [`TokenInfo`], from the first five columns.
fn token_info(r: &sqlx::any::AnyRow) -> Result<TokenInfo, StoreError> {
    Ok(TokenInfo {
        token_id: r.try_get(0)?,
        publisher: r.try_get(1)?,
        ocid_prefix: r.try_get(2)?,
        created_at: r.try_get(3)?,
        scopes: r
            .try_get::<String, _>(4)?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    })
}

impl Store {
    /// Open a session for `token`, lasting `seconds`. Returns the session id (for the
    /// cookie; only its hash is stored) and the session.
    pub async fn session_start(
        &self,
        token: &TokenInfo,
        seconds: u64,
    ) -> Result<(String, Session), StoreError> {
        let id = random_hex(32)?;
        let now = unix_now();
        let session = Session {
            token: token.clone(),
            csrf: random_hex(32)?,
            created_at: rfc3339(now),
            expires_at: rfc3339(now + seconds),
        };
        // Expired sessions go when new ones are made: the table stays small.
        sqlx::query(&self.sql("DELETE FROM sessions WHERE expires_at <= ?"))
            .bind(rfc3339(now))
            .execute(&self.pool)
            .await?;
        sqlx::query(&self.sql(
            "INSERT INTO sessions (session_hash, token_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        ))
        .bind(sha256_hex(id.as_bytes()))
        .bind(&token.token_id)
        .bind(&session.csrf)
        .bind(&session.created_at)
        .bind(&session.expires_at)
        .execute(&self.pool)
        .await?;
        Ok((id, session))
    }

    /// The session behind a cookie's id, if it exists, has not expired and its token
    /// is not revoked.
    pub async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(&self.sql(
            "SELECT t.token_id, t.publisher, t.ocid_prefix, t.created_at, t.scopes, s.csrf, s.created_at, s.expires_at
             FROM sessions s JOIN tokens t ON t.token_id = s.token_id
             WHERE s.session_hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL",
        ))
        .bind(sha256_hex(id.as_bytes()))
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Session {
                token: token_info(&r)?,
                csrf: r.try_get(5)?,
                created_at: r.try_get(6)?,
                expires_at: r.try_get(7)?,
            })
        })
        .transpose()
    }

    /// End a session (signing out). Returns whether it existed.
    pub async fn session_end(&self, id: &str) -> Result<bool, StoreError> {
        let n = sqlx::query(&self.sql("DELETE FROM sessions WHERE session_hash = ?"))
            .bind(sha256_hex(id.as_bytes()))
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_writes_only_under_its_prefix_and_a_dash() {
        let t = TokenInfo {
            token_id: "t".into(),
            publisher: "p".into(),
            ocid_prefix: "ocds-abc123".into(),
            created_at: String::new(),
            scopes: Vec::new(),
        };
        assert!(t.may_write("ocds-abc123-000001"));
        assert!(
            !t.may_write("ocds-abc1234-000001"),
            "a longer prefix is another publisher's"
        );
        assert!(!t.may_write("ocds-abc123"));
        assert!(!t.may_write("ocds-abc123-"));
        assert!(!t.may_write("ocds-other1-1"));
    }
}
