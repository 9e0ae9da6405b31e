//! The scheduler loop (in progress).
