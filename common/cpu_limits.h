#pragma once
// Bounds on CPU numbers read from outside input (cpulists, domain XML,
// control commands): what a hostile value can make us allocate or walk.

namespace vmpower {

// Highest host CPU number accepted ("0-4000000000" must not allocate 500 MB).
inline constexpr unsigned kMaxCpu = 8191;

// Most vCPUs a domain may have; vCPU ids (and so power channel indexes, one
// per guest lcore) run from 0 to kMaxVcpus - 1.
inline constexpr unsigned kMaxVcpus = 4096;

}  // namespace vmpower
