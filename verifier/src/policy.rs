//! What a verifier insists on beyond a genuine signature: how old its lists may be, whether a
//! device-bound credential must come with its holder proof, and how strictly the credential must
//! agree with the trust list and the status list.
//!
//! [`Policy::lenient`] (the default, what [`crate::VerifyOptions::at`] uses) keeps the verifier's
//! original behaviour: old lists, a missing holder proof and a status index beyond the list are
//! warnings. [`Policy::counter`] is what a service counter (窗口) runs offline: each of those is a
//! failing verdict.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// The rules a verification applies on top of the signature checks.
///
/// As JSON (the wasm module and the test vectors) every field may be left out (lenient value);
/// ages are whole seconds: `{"max_trust_list_age_seconds": 604800, "require_holder_proof": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// The oldest trust list accepted (`at - iat`); past it the verdict is `lists_too_old`.
    /// `None`: any age (past its time to live only a warning).
    #[serde(with = "seconds", rename = "max_trust_list_age_seconds")]
    pub max_trust_list_age: Option<TimeDelta>,
    /// The oldest status list accepted; past it, or with no status list at all, the verdict is
    /// `lists_too_old`. `None`: any age, and a missing status list is a warning.
    #[serde(with = "seconds", rename = "max_status_list_age_seconds")]
    pub max_status_list_age: Option<TimeDelta>,
    /// A credential bound to a device key fails with `holder_proof_required` when shown without
    /// its holder proof (a screenshot with the proof cut off, a printed slip). Otherwise: warning.
    pub require_holder_proof: bool,
    /// A credential whose `iat` lies more than the clock skew ahead fails with `issued_in_future`.
    pub reject_future_iat: bool,
    /// The credential's `iss` must be the issuer the trust list names for the key that signed
    /// it; otherwise `issuer_mismatch`.
    pub require_issuer_match: bool,
    /// A status index beyond the status list fails with `status_index_out_of_range` (revocation
    /// could not be checked). Otherwise: warning.
    pub require_status_coverage: bool,
}

impl Policy {
    /// The original behaviour: every rule of this type off.
    pub const fn lenient() -> Policy {
        Policy {
            max_trust_list_age: None,
            max_status_list_age: None,
            require_holder_proof: false,
            reject_future_iat: false,
            require_issuer_match: false,
            require_status_coverage: false,
        }
    }

    /// A service counter checking permits offline: lists at most 7 days (trust list) and 24 hours
    /// (status list) old, the holder proof required for device-bound credentials, no future
    /// `iat`, the issuer matching its key, the status index inside the list.
    pub const fn counter() -> Policy {
        Policy {
            max_trust_list_age: Some(TimeDelta::days(7)),
            max_status_list_age: Some(TimeDelta::hours(24)),
            require_holder_proof: true,
            reject_future_iat: true,
            require_issuer_match: true,
            require_status_coverage: true,
        }
    }
}

/// `Option<TimeDelta>` as `Option<i64>` whole seconds.
mod seconds {
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<TimeDelta>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_some(&d.num_seconds()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TimeDelta>, D::Error> {
        Option::<u32>::deserialize(d).map(|v| v.map(|s| TimeDelta::seconds(i64::from(s))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_lenient_and_the_counter_preset_turns_every_rule_on() {
        assert_eq!(Policy::default(), Policy::lenient());
        let c = Policy::counter();
        assert!(c.require_holder_proof && c.reject_future_iat);
        assert!(c.require_issuer_match && c.require_status_coverage);
        assert_eq!(c.max_trust_list_age, Some(TimeDelta::days(7)));
        assert_eq!(c.max_status_list_age, Some(TimeDelta::hours(24)));
    }
}
