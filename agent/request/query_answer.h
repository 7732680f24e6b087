#pragma once
// Replies to QUERY_FREQ_LIST / QUERY_FREQ (88 bytes) and QUERY_CAPS_LIST /
// QUERY_CAPS (184 bytes), about the querying VM's own vCPUs only.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "guest_identity.h"
#include "power_control.h"
#include "request_counters.h"
#include "request_decoder.h"
#include "verdict.h"

namespace vmpower {

bool isQuery(RequestKind kind);

// The NACK for a query: the size the guest will read (88 or 184) so its
// stream stays in step, command NACK, only the header echoed.
std::vector<std::byte> queryNack(RequestKind kind, std::span<const std::byte> request);

// The reply, or why not (NACKed as NackReason::UnknownCpu, the only
// refusal here). num_vcpu is the VM's vCPU count capped at 8 (the reply
// arrays' size); entry i describes vCPU i through every pCPU it may run on
// (an unpinned vCPU: all of its affinity, never one CPU of it): its
// frequency when they all run at one, else 0; turbo and priority when every
// one has them. The single queries fill only [resource_id]; they refuse a
// resource_id outside the arrays, and a frequency query for a vCPU whose
// pCPUs are not at one frequency.
Checked<std::vector<std::byte>> answerQuery(const DecodedRequest& req,
                                            std::span<const std::byte> request,
                                            const GuestIdentity& guest, const PowerControl& power);

}  // namespace vmpower
