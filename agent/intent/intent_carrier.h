#pragma once
// Where a VM's intent is carried beyond this process: the domain's live
// metadata (IntentWriter: follows a live migration) and the state file
// (IntentStateFile: survives a vmpowerd restart). The PowerIntentKeeper,
// the one owner, tells each carrier what changed; each renders the latest
// from the keeper when its coalesced write runs.

#include <string_view>

namespace vmpower {

class IntentCarrier {
  public:
    // The domain's intent may differ from what the carrier holds: carry the
    // latest, coalesced. O(log domains).
    virtual void changed(std::string_view uuid) = 0;
    // The domain is gone: nothing more to carry for it.
    virtual void forget(std::string_view uuid) = 0;

  protected:
    ~IntentCarrier() = default;
};

}  // namespace vmpower
