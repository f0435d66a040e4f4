// Loopback ports for test servers that must be given their address before
// they start (a node restarted on the same address, a peer named in another
// node's flags, a PostgreSQL cluster).
#pragma once

namespace crs::testing {

// A loopback TCP port that was free when chosen and that nothing else in a
// test run will take before this process ends, or 0 when none could be
// found:
//   - it lies outside the kernel's ephemeral range
//     (/proc/sys/net/ipv4/ip_local_port_range), so no connect() and no
//     bind() to port 0 -- any server started on port 0, any client -- can be
//     handed it;
//   - it is held by an flock(2) on /tmp/crs-test-ports/<port> until this
//     process exits, so no other test process (and no other call in this
//     one) chooses it.
// Port 0 and a later read of the bound port is better where a server can be
// started that way; this is for the cases that cannot.
int ReservePort();

}  // namespace crs::testing
