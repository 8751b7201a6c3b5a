//! The UDP relay the WebTransport tests run sessions through (cut: a
//! network that vanishes; moved: a change of network), the load
//! generator's own.

pub use loadtest::relay::UdpRelay;
