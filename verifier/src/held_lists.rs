//! The lists a verifier holds between downloads, and the rule that it never goes back to older
//! ones (no rollback): someone who replays an old trust list or status list (a cache, a proxy, an
//! instance that has not caught up) could otherwise undo a revocation on the device.

use chrono::{DateTime, TimeDelta, Utc};
use ed25519_dalek::VerifyingKey;

use crate::signed_list::ListError;
use crate::status_list::StatusList;
use crate::trust_list::TrustList;
use crate::verdict::{ListKind, Verification};
use crate::verify::{VerifyOptions, verify};

/// Why offered lists were not taken; the lists held before stay in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRefusal {
    /// The trust list does not verify against the pinned root key.
    TrustList(ListError),
    /// The status list does not verify against the offered trust list.
    StatusList(ListError),
    /// The offered list is older than the one held.
    Older {
        /// Which list.
        list: ListKind,
        /// `iat` of the list held.
        held: DateTime<Utc>,
        /// `iat` of the list offered.
        offered: DateTime<Utc>,
    },
    /// The offered list's `iat` lies ahead of the verifier's clock by more than the clock skew:
    /// held, it would shut out every honest list until then.
    FromTheFuture {
        /// Which list.
        list: ListKind,
        /// Its `iat`.
        issued_at: DateTime<Utc>,
    },
}

impl ListRefusal {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ListRefusal::TrustList(_) => "trust_list_rejected",
            ListRefusal::StatusList(_) => "status_list_rejected",
            ListRefusal::Older { .. } => "older_than_held",
            ListRefusal::FromTheFuture { .. } => "issued_in_future",
        }
    }
}

impl std::fmt::Display for ListRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListRefusal::TrustList(e) => write!(f, "trust list rejected: {e}"),
            ListRefusal::StatusList(e) => write!(f, "status list rejected: {e}"),
            ListRefusal::Older {
                list,
                held,
                offered,
            } => write!(
                f,
                "{} of {offered} is older than the one held ({held})",
                list.as_str()
            ),
            ListRefusal::FromTheFuture { list, issued_at } => {
                write!(f, "{} issued in the future ({issued_at})", list.as_str())
            }
        }
    }
}

impl std::error::Error for ListRefusal {}

/// What [`HeldLists::offer`] did with lists that verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// They are now held (the first lists, or newer ones).
    Taken,
    /// They are the bytes already held; nothing changed.
    Unchanged,
}

/// A verified trust list and status list, with their bytes, held under a pinned root key.
#[derive(Debug, Clone)]
pub struct HeldLists {
    root: VerifyingKey,
    held: Option<Held>,
}

#[derive(Debug, Clone)]
struct Held {
    trust_bytes: Vec<u8>,
    status_bytes: Vec<u8>,
    trust: TrustList,
    status: StatusList,
}

impl HeldLists {
    /// No lists yet, under this pinned root key.
    pub fn new(root: VerifyingKey) -> HeldLists {
        HeldLists { root, held: None }
    }

    /// Offers a downloaded trust list and status list (COSE bytes) at the verifier's time `at`.
    ///
    /// Both are taken together or neither: the trust list must verify against the root key, the
    /// status list against that trust list, neither may be older than the list of its kind held
    /// now (an equal `iat` is taken), and neither may be issued more than `clock_skew` after
    /// `at`. On a refusal the lists held before stay as they were.
    pub fn offer(
        &mut self,
        trust_bytes: &[u8],
        status_bytes: &[u8],
        at: DateTime<Utc>,
        clock_skew: TimeDelta,
    ) -> Result<Offered, ListRefusal> {
        if let Some(h) = &self.held
            && h.trust_bytes == trust_bytes
            && h.status_bytes == status_bytes
        {
            return Ok(Offered::Unchanged);
        }
        let trust =
            TrustList::from_cose(trust_bytes, &self.root).map_err(ListRefusal::TrustList)?;
        let status =
            StatusList::from_cose(status_bytes, &trust).map_err(ListRefusal::StatusList)?;
        let latest = at.checked_add_signed(clock_skew).unwrap_or(at);
        for (list, issued_at, held) in [
            (
                ListKind::TrustList,
                trust.issued_at,
                self.held.as_ref().map(|h| h.trust.issued_at),
            ),
            (
                ListKind::StatusList,
                status.issued_at,
                self.held.as_ref().map(|h| h.status.issued_at),
            ),
        ] {
            if issued_at > latest {
                return Err(ListRefusal::FromTheFuture { list, issued_at });
            }
            if let Some(held) = held
                && issued_at < held
            {
                return Err(ListRefusal::Older {
                    list,
                    held,
                    offered: issued_at,
                });
            }
        }
        self.held = Some(Held {
            trust_bytes: trust_bytes.to_vec(),
            status_bytes: status_bytes.to_vec(),
            trust,
            status,
        });
        Ok(Offered::Taken)
    }

    /// The trust list held, if any.
    pub fn trust_list(&self) -> Option<&TrustList> {
        self.held.as_ref().map(|h| &h.trust)
    }

    /// The status list held, if any.
    pub fn status_list(&self) -> Option<&StatusList> {
        self.held.as_ref().map(|h| &h.status)
    }

    /// The COSE bytes of the trust list and the status list held, if any.
    pub fn bytes(&self) -> Option<(&[u8], &[u8])> {
        self.held
            .as_ref()
            .map(|h| (h.trust_bytes.as_slice(), h.status_bytes.as_slice()))
    }

    /// Verifies a QR text against the lists held; `None` when none are held yet.
    pub fn verify(&self, qr_text: &str, options: &VerifyOptions) -> Option<Verification> {
        self.held
            .as_ref()
            .map(|h| verify(qr_text, &h.trust, Some(&h.status), options))
    }
}
