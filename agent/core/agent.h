#pragma once
// vmpowerd's parts wired together around one libvirt event loop:
// LibvirtHypervisor -> DomainRegistry -> Channel -> RequestHandler ->
// PowerControl, plus the control socket and signals. Tests build an Agent
// in-process (test:/// driver) or run the vmpowerd binary (real libvirtd).

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "clock.h"
#include "config.h"
#include "control_server.h"
#include "domain_registry.h"
#include "epoll_set.h"
#include "libvirt_hypervisor.h"
#include "peer_verifier.h"
#include "request_handler.h"
#include "retry_scheduler.h"

namespace vmpower {

struct AgentOptions {
    std::string uri = "qemu:///system";
    std::filesystem::path config_path;  // re-read on SIGHUP; empty: no reload
    bool handle_signals = true;         // SIGTERM/SIGINT stop, SIGHUP reloads
    bool control_socket = true;
    bool notify_systemd = true;
};

class Agent final : public HypervisorListener {
  public:
    // EventLoop::registerDefaultImpl() must have run (the constructor does it).
    Agent(AgentOptions options, Config config, PowerControl& power);
    ~Agent();
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    void start();  // connect to libvirt, open the control socket
    void runUntilStopped();
    void runOnce() { EventLoop::runOnce(); }
    void stop() { stopping_ = true; }
    bool stopping() const { return stopping_; }
    bool ready() const { return ready_; }  // first reconcile done

    bool reload();  // the config file again; false (old policy kept) if invalid
    nlohmann::json state() const;
    // One control-socket request; ReadOnly clients are refused every command
    // that changes something.
    nlohmann::json control(const nlohmann::json& request,
                           ControlAccess access = ControlAccess::Full);

    DomainRegistry& registry() { return *registry_; }
    LibvirtHypervisor& hypervisor() { return *hypervisor_; }
    const Config& config() const { return config_; }

    // HypervisorListener
    void onConnected() override;
    void onLifecycle(std::string_view uuid, int event, int detail) override;
    void onTunable(std::string_view uuid,
                   const std::vector<std::pair<std::string, std::string>>& params) override;
    void onDeviceChanged(std::string_view uuid, std::string_view alias) override;

  private:
    friend struct ControlCommands;  // the control socket's command table (agent_control.cpp)

    // The handler needs the registry's sharing answers and the registry
    // needs the handler: this forwards once both exist.
    struct SharingForwarder final : PcpuSharing {
        const PcpuSharing* target = nullptr;
        bool sharedWithOtherDomain(std::string_view uuid, const CpuSet& pcpus) const override {
            return target != nullptr && target->sharedWithOtherDomain(uuid, pcpus);
        }
    };
    void setUpSignals();

    AgentOptions options_;
    Config config_;
    PowerControl& power_;
    SteadyClock clock_;
    std::unique_ptr<RetryScheduler> retries_;
    std::unique_ptr<EpollSet> epoll_;
    std::unique_ptr<PeerVerifier> peers_;
    SharingForwarder sharing_;
    std::unique_ptr<RequestHandler> handler_;
    std::unique_ptr<ChannelEnv> env_;
    std::unique_ptr<LibvirtHypervisor> hypervisor_;
    std::unique_ptr<DomainRegistry> registry_;
    std::unique_ptr<ControlServer> control_;
    UniqueFd signal_fd_;
    EventLoop::Watch signal_watch_;
    bool ready_ = false;
    bool stopping_ = false;
};

}  // namespace vmpower
