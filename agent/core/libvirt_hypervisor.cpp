#include "libvirt_hypervisor.h"

#include <spdlog/spdlog.h>

#include <array>
#include <stdexcept>

#include "cpu_limits.h"
#include "log.h"
#include "power_intent.h"

namespace vmpower {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{250};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

std::string uuidOf(virDomainPtr dom) {
    std::array<char, VIR_UUID_STRING_BUFLEN> buf{};
    if (virDomainGetUUIDString(dom, buf.data()) < 0) return {};
    return buf.data();
}

LibvirtHypervisor& self(void* opaque) {
    return *static_cast<LibvirtHypervisor*>(opaque);
}

// Every trampoline catches everything: libvirt callbacks never throw (the
// handle* members are noexcept, and so is everything before them).
int onLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) noexcept {
    try {
        self(opaque).handleLifecycle(uuidOf(dom), event, detail);
    } catch (...) {
        LOG(Libvirt).error("lifecycle callback failed");
    }
    return 0;
}

void onTunable(virConnectPtr, virDomainPtr dom, virTypedParameterPtr params, int nparams,
               void* opaque) noexcept {
    try {
        TunableParams strings;
        for (int i = 0; i < nparams; ++i) {
            if (params[i].type == VIR_TYPED_PARAM_STRING && params[i].value.s != nullptr) {
                strings.emplace_back(params[i].field, params[i].value.s);
            }
        }
        self(opaque).handleTunable(uuidOf(dom), strings);
    } catch (...) {
        LOG(Libvirt).error("tunable callback failed");
    }
}

void onDeviceAdded(virConnectPtr, virDomainPtr dom, const char* alias, void* opaque) noexcept {
    try {
        self(opaque).handleDevice(uuidOf(dom), alias ? alias : "", true);
    } catch (...) {
        LOG(Libvirt).error("device callback failed");
    }
}

void onDeviceRemoved(virConnectPtr, virDomainPtr dom, const char* alias, void* opaque) noexcept {
    try {
        self(opaque).handleDevice(uuidOf(dom), alias ? alias : "", false);
    } catch (...) {
        LOG(Libvirt).error("device callback failed");
    }
}

void onClose(virConnectPtr, int reason, void* opaque) {
    self(opaque).handleClose(reason);
}

const char* closeReason(int reason) {
    switch (reason) {
        case VIR_CONNECT_CLOSE_REASON_ERROR:
            return "I/O error";
        case VIR_CONNECT_CLOSE_REASON_EOF:
            return "end of file (libvirtd went away)";
        case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
            return "keepalive timeout";
        case VIR_CONNECT_CLOSE_REASON_CLIENT:
            return "closed by client";
        default:
            return "unknown reason";
    }
}

}  // namespace

LibvirtHypervisor::LibvirtHypervisor(std::string uri, RetryScheduler& retries,
                                     DomainEventListener& listener)
    : uri_(std::move(uri)), retries_(retries), listener_(listener) {}

LibvirtHypervisor::~LibvirtHypervisor() {
    pending_.reset();
    disconnect();
}

void LibvirtHypervisor::start() {
    // libvirt prints every error to stderr by default; we log what matters
    // ourselves, once, with context.
    silenceLibvirtErrors();
    connect();
}

void LibvirtHypervisor::connect() {
    pending_.reset();
    ConnectHandle conn(virConnectOpen(uri_.c_str()));
    if (!conn) {
        LOG(Libvirt).warn("cannot connect to {}: {} (retrying in {} ms)", uri_, lastLibvirtError(),
                          backoff_.count());
        scheduleReconnect();
        return;
    }
    conn_ = std::move(conn);
    // Remote drivers only; test:/// answers 1 (unsupported), which is fine.
    if (virConnectSetKeepAlive(conn_.get(), 5, 3) < 0) {
        LOG(Libvirt).warn("keepalive on {}: {}", uri_, lastLibvirtError());
    }
    if (virConnectRegisterCloseCallback(conn_.get(), onClose, this, nullptr) == 0) {
        close_callback_ = true;
    }
    struct Sub {
        int id;
        virConnectDomainEventGenericCallback cb;
        const char* what;
    };
    const std::array<Sub, 4> subs{{
        {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(onLifecycle), "lifecycle"},
        {VIR_DOMAIN_EVENT_ID_TUNABLE, VIR_DOMAIN_EVENT_CALLBACK(onTunable), "tunable"},
        {VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(onDeviceAdded),
         "device-added"},
        {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(onDeviceRemoved),
         "device-removed"},
    }};
    for (const auto& sub : subs) {
        int id =
            virConnectDomainEventRegisterAny(conn_.get(), nullptr, sub.id, sub.cb, this, nullptr);
        if (id < 0) {
            LOG(Libvirt).warn("{} events unavailable on {}: {}", sub.what, uri_,
                              lastLibvirtError());
        } else {
            callback_ids_.push_back(id);
        }
    }
    ++connects_;
    backoff_ = kFirstBackoff;
    LOG(Libvirt).info("connected to {}", uri_);
    listener_.onConnected();
}

void LibvirtHypervisor::disconnect() {
    if (!conn_) return;
    for (int id : callback_ids_) virConnectDomainEventDeregisterAny(conn_.get(), id);
    callback_ids_.clear();
    if (close_callback_) virConnectUnregisterCloseCallback(conn_.get(), onClose);
    close_callback_ = false;
    conn_.reset();
    host_cpus_ = CpuSet{};
}

void LibvirtHypervisor::handleLifecycle(std::string_view uuid, int event, int detail) noexcept {
    try {
        LOG(Libvirt).debug("lifecycle {} event {} detail {}", uuid, event, detail);
        if (auto e = lifecycleEvent(event, detail)) listener_.onDomainEvent(uuid, *e);
    } catch (const std::exception& e) {
        LOG(Libvirt).error("lifecycle event for {}: {}", uuid, e.what());
    }
}

void LibvirtHypervisor::handleTunable(std::string_view uuid, const TunableParams& params) noexcept {
    try {
        std::vector<std::string> rejected;
        for (const auto& e : tunableEvents(params, &rejected)) listener_.onDomainEvent(uuid, e);
        for (const auto& r : rejected) LOG(Libvirt).warn("{}: ignoring tunable {}", uuid, r);
    } catch (const std::exception& e) {
        LOG(Libvirt).error("tunable event for {}: {}", uuid, e.what());
    }
}

void LibvirtHypervisor::handleDevice(std::string_view uuid, std::string_view alias,
                                     bool added) noexcept {
    try {
        LOG(Libvirt).debug("device {} {} in {}", alias, added ? "added" : "removed", uuid);
        if (added) {
            listener_.onDomainEvent(uuid, DeviceAdded{std::string(alias)});
        } else {
            listener_.onDomainEvent(uuid, DeviceRemoved{std::string(alias)});
        }
    } catch (const std::exception& e) {
        LOG(Libvirt).error("device event for {}: {}", uuid, e.what());
    }
}

void LibvirtHypervisor::handleClose(int reason) noexcept {
    try {
        LOG(Libvirt).warn("connection to {} lost: {}; channels stay open, reconnecting", uri_,
                          closeReason(reason));
        // Not from inside libvirt's callback: tear down on the next turn.
        if (!pending_.pending()) {
            pending_ = retries_.schedule(std::chrono::milliseconds(0), [this] {
                pending_.reset();
                disconnect();
                backoff_ = kFirstBackoff;
                scheduleReconnect();
            });
        }
    } catch (...) {
        LOG(Libvirt).error("close callback failed");
    }
}

void LibvirtHypervisor::scheduleReconnect() {
    pending_ = retries_.schedule(backoff_, [this] { connect(); });
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

std::optional<DomainSnapshot> LibvirtHypervisor::snapshot(virDomainPtr dom) {
    DomainSnapshot snap;
    snap.uuid = uuidOf(dom);
    const char* name = virDomainGetName(dom);
    if (snap.uuid.empty() || name == nullptr) return std::nullopt;
    snap.name = name;
    LibvirtString xml(virDomainGetXMLDesc(dom, 0));
    if (!xml) {
        // Vanished between listing and reading: not an error of ours. Any
        // other failure (libvirtd going away mid-call, a timeout) says
        // nothing about the domain: it is kept, and read again later.
        if (lastLibvirtErrorCode() == VIR_ERR_NO_DOMAIN) {
            LOG(Libvirt).info("{}: gone while reading its XML", snap.name);
            return std::nullopt;
        }
        snap.unreadable = lastLibvirtError();
        return snap;
    }
    snap.xml = xml.get();

    int vcpus = virDomainGetVcpusFlags(dom, VIR_DOMAIN_AFFECT_LIVE);
    CpuSet host = hostCpus();
    auto ncpus = host.empty() ? 0U : host.cpus().back() + 1;
    if (vcpus > 0 && static_cast<unsigned>(vcpus) <= kMaxVcpus && ncpus > 0) {
        int maplen = VIR_CPU_MAPLEN(static_cast<int>(ncpus));
        std::vector<unsigned char> maps(static_cast<std::size_t>(vcpus) *
                                        static_cast<std::size_t>(maplen));
        int n = virDomainGetVcpuPinInfo(dom, vcpus, maps.data(), maplen, VIR_DOMAIN_AFFECT_LIVE);
        if (n > 0) {
            std::vector<CpuSet> pins(static_cast<std::size_t>(n));
            for (int v = 0; v < n; ++v) {
                for (unsigned cpu = 0; cpu < ncpus; ++cpu) {
                    if (VIR_CPU_USABLE(maps.data(), maplen, v, static_cast<int>(cpu))) {
                        pins[static_cast<std::size_t>(v)].add(cpu);
                    }
                }
            }
            snap.vcpu_pins = std::move(pins);
        }
    }
    return snap;
}

std::vector<DomainSnapshot> LibvirtHypervisor::listActive() {
    if (!conn_) throw std::runtime_error("not connected to " + uri_);
    virDomainPtr* doms = nullptr;
    int n = virConnectListAllDomains(conn_.get(), &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) throw std::runtime_error(lastLibvirtError());
    LibvirtArray<virDomainPtr> list(doms);
    std::vector<DomainHandle> owned;
    for (int i = 0; i < n; ++i) owned.emplace_back(list[static_cast<std::size_t>(i)]);
    std::vector<DomainSnapshot> out;
    for (auto& dom : owned) {
        if (auto snap = snapshot(dom.get())) out.push_back(std::move(*snap));
    }
    return out;
}

std::optional<DomainSnapshot> LibvirtHypervisor::lookupActive(std::string_view uuid) {
    if (!conn_) throw std::runtime_error("not connected to " + uri_);
    DomainHandle dom(virDomainLookupByUUIDString(conn_.get(), std::string(uuid).c_str()));
    if (!dom) {
        if (lastLibvirtErrorCode() == VIR_ERR_NO_DOMAIN) return std::nullopt;
        throw std::runtime_error(lastLibvirtError());
    }
    // The lookup's reply carries the domain's id (-1 while inactive):
    // asking libvirtd again (virDomainIsActive) would cost a round trip on
    // the STARTED -> connected path. A domain stopping after the lookup is
    // the same race as before: reading its XML says so.
    if (virDomainGetID(dom.get()) == static_cast<unsigned>(-1)) return std::nullopt;
    return snapshot(dom.get());
}

std::optional<DomainName> LibvirtHypervisor::lookupDefined(std::string_view name_or_uuid) {
    if (!conn_) throw std::runtime_error("not connected to libvirt");
    const std::string key(name_or_uuid);
    DomainHandle dom(virDomainLookupByName(conn_.get(), key.c_str()));
    if (!dom) dom = DomainHandle(virDomainLookupByUUIDString(conn_.get(), key.c_str()));
    if (!dom) return std::nullopt;
    DomainName out{key, uuidOf(dom.get())};
    if (const char* n = virDomainGetName(dom.get())) out.name = n;
    return out;
}

void LibvirtHypervisor::pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus) {
    if (!conn_) throw std::runtime_error("not connected to libvirt");
    const std::string n(name);
    DomainHandle dom(virDomainLookupByName(conn_.get(), n.c_str()));
    if (!dom) throw std::runtime_error(n + ": " + lastLibvirtError());
    if (pcpus.empty()) throw std::runtime_error(n + ": an empty pCPU set");
    std::vector<unsigned char> map(pcpus.cpus().back() / 8 + 1, 0);
    for (unsigned c : pcpus.cpus()) {
        map[c / 8] = static_cast<unsigned char>(map[c / 8] | (1U << (c % 8)));
    }
    // virDomainPinVcpu acts on the live domain (the test driver has no
    // ...Flags variant); the persistent config stays the admin's.
    if (virDomainPinVcpu(dom.get(), vcpu, map.data(), static_cast<int>(map.size())) < 0) {
        throw std::runtime_error(n + ": " + lastLibvirtError());
    }
}

MetadataWrite LibvirtHypervisor::setPowerIntent(std::string_view uuid, const std::string& element) {
    if (!conn_) throw std::runtime_error("not connected to " + uri_);
    DomainHandle dom(virDomainLookupByUUIDString(conn_.get(), std::string(uuid).c_str()));
    if (!dom) {
        if (lastLibvirtErrorCode() == VIR_ERR_NO_DOMAIN) return MetadataWrite::Gone;
        throw std::runtime_error(lastLibvirtError());
    }
    // Setting metadata takes a modify job: during a migration (or another
    // client's job) libvirt would wait for it, up to 30 s, with our loop
    // stopped. The control state is known without a job; a job starting
    // between this and the write is the remaining (short) window.
    virDomainControlInfo control{};
    if (virDomainGetControlInfo(dom.get(), &control, 0) == 0) {
        if (control.state != VIR_DOMAIN_CONTROL_OK) return MetadataWrite::Busy;
    } else if (lastLibvirtErrorCode() == VIR_ERR_NO_DOMAIN) {
        return MetadataWrite::Gone;
    }
    const std::string key(kPowerIntentPrefix), ns(kPowerIntentNamespace);
    // METADATA_CHANGE events (this write emits one) are not subscribed to:
    // the agent never re-reads a domain because of its own write.
    if (virDomainSetMetadata(dom.get(), VIR_DOMAIN_METADATA_ELEMENT,
                             element.empty() ? nullptr : element.c_str(), key.c_str(), ns.c_str(),
                             VIR_DOMAIN_AFFECT_LIVE) < 0) {
        int code = lastLibvirtErrorCode();
        if (code == VIR_ERR_NO_DOMAIN || code == VIR_ERR_OPERATION_INVALID) {
            return MetadataWrite::Gone;  // stopped meanwhile (live needs a running domain)
        }
        if (code == VIR_ERR_OPERATION_TIMEOUT) return MetadataWrite::Busy;
        throw std::runtime_error(lastLibvirtError());
    }
    return MetadataWrite::Written;
}

CpuSet LibvirtHypervisor::hostCpus() {
    // Asked once per connection (host CPUs do not come and go under a
    // running libvirtd often enough to pay an RPC per domain snapshot).
    if (host_cpus_.empty()) host_cpus_ = readHostCpus();
    return host_cpus_;
}

CpuSet LibvirtHypervisor::readHostCpus() {
    CpuSet set;
    if (!conn_) return set;
    unsigned char* map = nullptr;
    unsigned int online = 0;
    int n = virNodeGetCPUMap(conn_.get(), &map, &online, 0);
    LibvirtArray<unsigned char> owned(map);
    if (n <= 0) return set;
    for (int cpu = 0; cpu < n; ++cpu) {
        if (VIR_CPU_USED(map, cpu)) set.add(static_cast<unsigned>(cpu));
    }
    return set;
}

}  // namespace vmpower
