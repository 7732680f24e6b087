// Precompiled once for the integration tests' executable: the test headers
// of every room's executable, and the world every integration test file
// includes (the in-process agent, libvirt, JSON: most of each file's
// compile time before).
#include "../../lib/pch/test_pch.h"

#include "agent_harness.h"
