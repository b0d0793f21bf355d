//! Host-directory passthrough (being written).
