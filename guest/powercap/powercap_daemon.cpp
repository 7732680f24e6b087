#include "powercap_daemon.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <memory>
#include <optional>
#include <ostream>

#include "energy_counter.h"
#include "free_port.h"
#include "powercap_mount.h"
#include "powercap_tree.h"

namespace vmpower::guest {

namespace {

constexpr const char* kLog = "vmpower-guest powercap: ";

const char* signalName(int sig) {
    return sig == SIGTERM ? "SIGTERM" : "SIGINT";
}

// SIGTERM and SIGINT, blocked and taken synchronously while waiting.
class StopSignals {
  public:
    StopSignals() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGTERM);
        sigaddset(&set_, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    }
    // Waits `seconds`; the signal that arrived meanwhile, else 0.
    int wait(double seconds) const {
        timespec left{static_cast<time_t>(seconds),
                      static_cast<long>(std::fmod(seconds, 1.0) * 1e9)};
        timespec start{};
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
            int sig = sigtimedwait(&set_, nullptr, &left);
            if (sig > 0) return sig;
            if (errno != EINTR) return 0;  // EAGAIN: the time is up
            timespec now{};
            clock_gettime(CLOCK_MONOTONIC, &now);
            double rest = seconds - static_cast<double>(now.tv_sec - start.tv_sec) -
                          static_cast<double>(now.tv_nsec - start.tv_nsec) / 1e9;
            if (rest <= 0) return 0;
            left = {static_cast<time_t>(rest), static_cast<long>(std::fmod(rest, 1.0) * 1e9)};
        }
    }

  private:
    sigset_t set_;
};

class Daemon {
  public:
    Daemon(const PowercapOptions& opts, std::ostream& log) : opts_(opts), log_(log) {}
    int run();

  private:
    bool checkPlace();
    std::optional<int> firstAnswer(EnergyAnswer& a);
    bool layOut();
    bool apply(const EnergyAnswer& a);
    void askedAgain(const EnergyAnswer& a);
    void portError(const EnergyAnswer& a);
    EnergyAnswer ask() const { return queryEnergyOnFreePort(opts_.channel, opts_.port); }

    const PowercapOptions& opts_;
    std::ostream& log_;
    std::unique_ptr<StopSignals> signals_;  // none with --once
    std::unique_ptr<PowercapTree> tree_;
    EnergyCounter counter_;
    double base_s_ = 1.0;      // --interval
    double interval_s_ = 1.0;  // base_s_, or longer while the host rate-limits us
    std::string last_error_;   // the port error logged last, "" once answered
};

bool Daemon::checkPlace() {
    try {
        if (opts_.root.empty()) {
            checkSysfsPowercap();
        } else {
            checkRoot(opts_.root);
        }
        return true;
    } catch (const PowercapError& e) {
        log_ << kLog << e.what() << '\n';
        return false;
    }
}

void Daemon::portError(const EnergyAnswer& a) {
    std::string text = describePortError(a.status, a.port, opts_.channel, a.err_no);
    if (text != last_error_) log_ << kLog << text << '\n';
    last_error_ = text;
}

// Asks until the host answers (or says it measures nothing). A NACK at
// this first query is the host's rule: exit without touching the tree.
std::optional<int> Daemon::firstAnswer(EnergyAnswer& a) {
    for (;;) {
        a = ask();
        if (a.status == VMPOWER_OK || a.status == VMPOWER_ERR_UNAVAILABLE) return std::nullopt;
        if (a.status == VMPOWER_ERR_NACK) {
            log_ << kLog << "the host does not allow this VM energy queries: its rule needs "
                 << "energy: true\n";
            return 2;
        }
        portError(a);
        if (opts_.once) return 2;
        if (int sig = signals_->wait(interval_s_)) {
            log_ << kLog << "stopped by " << signalName(sig) << " before the host answered\n";
            return 0;
        }
    }
}

bool Daemon::layOut() {
    try {
        std::string root = opts_.root;
        if (root.empty()) {
            if (mountPowercapTmpfs())
                log_ << kLog << "mounted a tmpfs over " << kSysfsPowercap << '\n';
            root = kSysfsPowercap;
        }
        tree_ = std::make_unique<PowercapTree>(root);
    } catch (const PowercapError& e) {
        log_ << kLog << e.what() << '\n';
        return false;
    }
    counter_ = EnergyCounter(tree_->restored(), tree_->restoredHost());
    log_ << kLog << "writing the VM's energy under " << tree_->root().string() << " ("
         << kPackageZone << " package, " << kCoreZone << " core), asking every " << interval_s_
         << " s";
    if (tree_->continued()) log_ << "; continuing from " << tree_->restored().package_uj << " µJ";
    log_ << '\n';
    return true;
}

// Counts an answer (a reading, or "measures nothing") into the tree.
bool Daemon::apply(const EnergyAnswer& a) {
    std::optional<HostCount> reading;
    if (a.status == VMPOWER_OK) reading = hostCountOf(a.reply);
    const CountEvents ev = counter_.add(reading);
    if (ev.unavailable) log_ << kLog << "the host measures no energy now\n";
    if (ev.available) log_ << kLog << "the host measures energy again\n";
    if (ev.new_host_count)
        log_ << kLog << "the host's count started again (live migration or agent restart): "
             << "continuing from " << ev.continued_from << " µJ\n";
    try {
        tree_->write(counter_.count(), counter_.last());
        return true;
    } catch (const PowercapError& e) {
        log_ << kLog << e.what() << '\n';
        return false;
    }
}

// The interval's bookkeeping for an answer after the first: a NACK now is
// the host's rate limit (back off), an error is logged once.
void Daemon::askedAgain(const EnergyAnswer& a) {
    if (a.status == VMPOWER_ERR_NACK) {
        const double slower = std::min(interval_s_ * 2, std::max(kMaxBackoffS, base_s_));
        if (slower != interval_s_)
            log_ << kLog << "the host refused the energy query (its rate limit): asking every "
                 << slower << " s\n";
        interval_s_ = slower;
        return;
    }
    if (a.status != VMPOWER_OK && a.status != VMPOWER_ERR_UNAVAILABLE) return portError(a);
    if (!last_error_.empty() || interval_s_ != base_s_)
        log_ << kLog << "the host answers again: asking every " << base_s_ << " s\n";
    last_error_.clear();
    interval_s_ = base_s_;
}

int Daemon::run() {
    base_s_ = interval_s_ = std::max(opts_.interval_s, kMinIntervalS);
    if (!opts_.once) signals_ = std::make_unique<StopSignals>();
    if (!checkPlace()) return 2;
    EnergyAnswer a;
    if (auto status = firstAnswer(a)) return *status;
    if (!layOut()) return 2;
    if (!last_error_.empty()) log_ << kLog << "the host answers\n";
    last_error_.clear();
    if (!apply(a)) return 2;
    while (!opts_.once) {
        if (int sig = signals_->wait(interval_s_)) {
            log_ << kLog << "stopped by " << signalName(sig) << "; the tree keeps "
                 << counter_.count().package_uj << " µJ\n";
            return 0;
        }
        a = ask();
        askedAgain(a);
        if ((a.status == VMPOWER_OK || a.status == VMPOWER_ERR_UNAVAILABLE) && !apply(a)) return 2;
    }
    return 0;
}

}  // namespace

int runPowercap(const PowercapOptions& opts, std::ostream& log) {
    return Daemon(opts, log).run();
}

}  // namespace vmpower::guest
