//! RP1 credential format and offline verification (filled by issue 3).
