//! Publishers' tokens: shown once when made, stored only as a SHA-256 hash.

use sqlx::Row;

use crate::{now, sha256_hex, Store, StoreError};

/// A token as the database knows it (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub token_id: String,
    pub publisher: String,
    pub ocid_prefix: String,
    pub created_at: String,
    /// Scopes beyond writing the ocid prefix's processes: `bods:write` (publish
    /// ownership statements), `plan:N` (update commitment N of the action plan).
    pub scopes: Vec<String>,
}

/// Whether `scope` is one the platform knows.
pub fn valid_scope(scope: &str) -> bool {
    scope == "bods:write"
        || scope
            .strip_prefix("plan:")
            .is_some_and(|n| n.parse::<u16>().is_ok_and(|n| (1..=99).contains(&n)))
}

impl TokenInfo {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
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

/// 32 random bytes from the operating system, as hex.
fn random_hex(bytes: usize) -> Result<String, StoreError> {
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
                    "{bad:?} is not a scope: use `bods:write` or `plan:N` (a commitment number)"
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
        row.map(|r| {
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
        })
        .transpose()
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
