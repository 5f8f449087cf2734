//! (evaluation: written next)
