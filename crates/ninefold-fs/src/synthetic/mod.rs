//! Synthetic nodes (being written).
