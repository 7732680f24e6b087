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

void onJobCompleted(virConnectPtr, virDomainPtr dom, virTypedParameterPtr, int,
                    void* opaque) noexcept {
    try {
        self(opaque).handleJobCompleted(uuidOf(dom));
    } catch (...) {
        LOG(Libvirt).error("job callback failed");
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
    connecting_.reset();
    // The last call: events deregistered and the connection closed on the
    // worker, which then stops (it still needs link_).
    worker_.detach([this] { closeLink(); });
    worker_.stop();
}

void LibvirtHypervisor::start() {
    // libvirt prints every error to stderr by default; we log what matters
    // ourselves, once, with context.
    silenceLibvirtErrors();
    connect();
}

// ---- the loop's side of the connection

void LibvirtHypervisor::connect() {
    pending_.reset();
    lost_while_connecting_ = false;
    connecting_ = worker_.post<Checked<std::pair<virConnectPtr, CpuSet>>>(
        [this] { return openLink(); },
        [this](Checked<std::pair<virConnectPtr, CpuSet>> opened) {
            if (!opened) {
                LOG(Libvirt).warn("cannot connect to {}: {} (retrying in {} ms)", uri_,
                                  opened.reason(), backoff_.count());
                scheduleReconnect();
                return;
            }
            connectedAs(opened->first, std::move(opened->second));
        });
}

void LibvirtHypervisor::connectedAs(virConnectPtr conn, CpuSet host_cpus) {
    connected_ = true;
    connection_ = conn;
    host_cpus_ = std::move(host_cpus);
    ++connects_;
    backoff_ = kFirstBackoff;
    LOG(Libvirt).info("connected to {}", uri_);
    if (std::exchange(lost_while_connecting_, false)) {
        lost();
        return;
    }
    listener_.onConnected();
}

void LibvirtHypervisor::lost() {
    if (!connected_) {
        // Lost before the connect's answer reached the loop: that answer
        // names a dead connection; start again once it has come.
        if (connecting_.pending()) lost_while_connecting_ = true;
        return;  // or told twice (the worker and the loop both saw it)
    }
    connected_ = false;
    connection_ = nullptr;
    // Torn down on the worker (deregistering is a round trip), then again.
    worker_.detach([this] { closeLink(); });
    backoff_ = kFirstBackoff;
    scheduleReconnect();
}

void LibvirtHypervisor::scheduleReconnect() {
    pending_ = retries_.schedule(backoff_, [this] { connect(); });
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

void LibvirtHypervisor::handleLifecycle(std::string_view uuid, int event, int detail) noexcept {
    try {
        LOG(Libvirt).debug("lifecycle {} event {} detail {}", uuid, event, detail);
        auto e = lifecycleEvent(event, detail);
        if (!e) return;
        if (std::holds_alternative<DomainStopped>(*e))
            worker_.detach([this, id = std::string(uuid)] { link_.traffic.forget(id); });
        listener_.onDomainEvent(uuid, *e);
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
        worker_.detach([this, id = std::string(uuid)] { link_.traffic.domainChanged(id); });
        if (added) {
            listener_.onDomainEvent(uuid, DeviceAdded{std::string(alias)});
        } else {
            listener_.onDomainEvent(uuid, DeviceRemoved{std::string(alias)});
        }
    } catch (const std::exception& e) {
        LOG(Libvirt).error("device event for {}: {}", uuid, e.what());
    }
}

void LibvirtHypervisor::handleJobCompleted(std::string_view uuid) noexcept {
    try {
        LOG(Libvirt).debug("job completed on {}", uuid);
        listener_.onDomainEvent(uuid, JobEnded{});
    } catch (const std::exception& e) {
        LOG(Libvirt).error("job event for {}: {}", uuid, e.what());
    }
}

void LibvirtHypervisor::handleClose(int reason) noexcept {
    try {
        LOG(Libvirt).warn("connection to {} lost: {}; channels stay open, reconnecting", uri_,
                          closeReason(reason));
        // Never from inside libvirt's callback, and always on the loop.
        worker_.toLoop([this] { lost(); });
    } catch (...) {
        LOG(Libvirt).error("close callback failed");
    }
}

// ---- calls, posted to the worker

AsyncCall LibvirtHypervisor::listActive(Done<ActiveDomains> done) {
    return worker_.post<Checked<ActiveDomains>>([this] { return listOnWorker(); },
                                                std::move(done));
}

AsyncCall LibvirtHypervisor::lookupActive(std::string_view uuid,
                                          Done<std::optional<DomainSnapshot>> done) {
    return worker_.post<Checked<std::optional<DomainSnapshot>>>(
        [this, id = std::string(uuid)] { return lookupOnWorker(id); }, std::move(done));
}

AsyncCall LibvirtHypervisor::lookupDefined(std::string_view name_or_uuid,
                                           Done<std::optional<DomainName>> done) {
    return worker_.post<Checked<std::optional<DomainName>>>(
        [this, key = std::string(name_or_uuid)]() -> std::optional<DomainName> {
            virConnectPtr conn = link();
            DomainHandle dom(virDomainLookupByName(conn, key.c_str()));
            if (!dom) dom = DomainHandle(virDomainLookupByUUIDString(conn, key.c_str()));
            if (!dom) return std::nullopt;
            DomainName out{key, uuidOf(dom.get())};
            if (const char* n = virDomainGetName(dom.get())) out.name = n;
            return out;
        },
        std::move(done));
}

AsyncCall LibvirtHypervisor::pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus,
                                     DoneVerdict done) {
    return worker_.post<Verdict>(
        [this, n = std::string(name), vcpu, pcpus] {
            if (pcpus.empty()) return Verdict::refused(n + ": an empty pCPU set");
            DomainHandle dom(virDomainLookupByName(link(), n.c_str()));
            if (!dom) return Verdict::refused(n + ": " + lastLibvirtError());
            std::vector<unsigned char> map(pcpus.cpus().back() / 8 + 1, 0);
            for (unsigned c : pcpus.cpus()) {
                map[c / 8] = static_cast<unsigned char>(map[c / 8] | (1U << (c % 8)));
            }
            // virDomainPinVcpu acts on the live domain (the test driver has
            // no ...Flags variant); the persistent config stays the admin's.
            if (virDomainPinVcpu(dom.get(), vcpu, map.data(), static_cast<int>(map.size())) < 0)
                return Verdict::refused(n + ": " + lastLibvirtError());
            return Verdict::accepted();
        },
        std::move(done));
}

AsyncCall LibvirtHypervisor::setPowerIntent(std::string_view uuid, const std::string& element,
                                            Done<MetadataWrite> done) {
    return worker_.post<Checked<MetadataWrite>>(
        [this, id = std::string(uuid), element] { return writeIntentOnWorker(id, element); },
        std::move(done));
}

AsyncCall LibvirtHypervisor::sample(std::vector<std::string> uuids, Done<TrafficSample> done) {
    return worker_.post<Checked<TrafficSample>>(
        [this, uuids = std::move(uuids)] { return link_.traffic.read(link(), uuids); },
        std::move(done));
}

// ---- the worker's side

virConnectPtr LibvirtHypervisor::link() const {
    if (!link_.conn) throw std::runtime_error("not connected to " + uri_);
    return link_.conn.get();
}

std::pair<virConnectPtr, CpuSet> LibvirtHypervisor::openLink() {
    closeLink();  // a connection lost meanwhile
    ConnectHandle conn(virConnectOpen(uri_.c_str()));
    if (!conn) throw std::runtime_error(lastLibvirtError());
    // Remote drivers only; test:/// answers 1 (unsupported), which is fine.
    if (virConnectSetKeepAlive(conn.get(), 5, 3) < 0) {
        LOG(Libvirt).warn("keepalive on {}: {}", uri_, lastLibvirtError());
    }
    link_.conn = std::move(conn);
    if (virConnectRegisterCloseCallback(link_.conn.get(), onClose, this, nullptr) == 0) {
        link_.close_callback = true;
    }
    struct Sub {
        int id;
        virConnectDomainEventGenericCallback cb;
        const char* what;
    };
    // Their callbacks run on the loop: libvirt queues events and hands them
    // out from a timer of the loop's (epoll_event_impl.h).
    const std::array<Sub, 5> subs{{
        {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(onLifecycle), "lifecycle"},
        {VIR_DOMAIN_EVENT_ID_TUNABLE, VIR_DOMAIN_EVENT_CALLBACK(onTunable), "tunable"},
        {VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(onDeviceAdded),
         "device-added"},
        {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(onDeviceRemoved),
         "device-removed"},
        {VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(onJobCompleted),
         "job-completed"},
    }};
    for (const auto& sub : subs) {
        int id = virConnectDomainEventRegisterAny(link_.conn.get(), nullptr, sub.id, sub.cb, this,
                                                  nullptr);
        if (id < 0) {
            LOG(Libvirt).warn("{} events unavailable on {}: {}", sub.what, uri_,
                              lastLibvirtError());
        } else {
            link_.callback_ids.push_back(id);
        }
    }
    link_.host_cpus = readHostCpus(link_.conn.get());
    return {link_.conn.get(), link_.host_cpus};
}

void LibvirtHypervisor::closeLink() {
    if (!link_.conn) return;
    for (int id : link_.callback_ids) virConnectDomainEventDeregisterAny(link_.conn.get(), id);
    link_.callback_ids.clear();
    if (link_.close_callback) virConnectUnregisterCloseCallback(link_.conn.get(), onClose);
    link_.close_callback = false;
    link_.traffic.clear();  // its handles belong to the connection
    link_.conn.reset();
    link_.host_cpus = CpuSet{};
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
    const CpuSet& host = link_.host_cpus;
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

ActiveDomains LibvirtHypervisor::listOnWorker() {
    virDomainPtr* doms = nullptr;
    int n = virConnectListAllDomains(link(), &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) throw std::runtime_error(lastLibvirtError());
    LibvirtArray<virDomainPtr> list(doms);
    std::vector<DomainHandle> owned;
    for (int i = 0; i < n; ++i) owned.emplace_back(list[static_cast<std::size_t>(i)]);
    ActiveDomains out;
    for (auto& dom : owned) {
        if (auto snap = snapshot(dom.get())) out.domains.push_back(std::move(*snap));
    }
    out.host_cpus = link_.host_cpus;
    return out;
}

std::optional<DomainSnapshot> LibvirtHypervisor::lookupOnWorker(const std::string& uuid) {
    DomainHandle dom(virDomainLookupByUUIDString(link(), uuid.c_str()));
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

MetadataWrite LibvirtHypervisor::writeIntentOnWorker(const std::string& uuid,
                                                     const std::string& element) {
    DomainHandle dom(virDomainLookupByUUIDString(link(), uuid.c_str()));
    if (!dom) {
        if (lastLibvirtErrorCode() == VIR_ERR_NO_DOMAIN) return MetadataWrite::Gone;
        throw std::runtime_error(lastLibvirtError());
    }
    // Setting metadata takes a modify job: while any job runs (a migration
    // or dump is an async job, which virDomainGetControlInfo does not show
    // between its monitor calls) libvirt would hold this thread up to 30 s
    // and fail. Job info is answered without the job lock; the writer waits
    // for the job's end event (or a slow retry) instead. A job starting
    // between this and the write is the remaining, short, window.
    virDomainJobInfo job{};
    if (virDomainGetJobInfo(dom.get(), &job) == 0) {
        if (job.type != VIR_DOMAIN_JOB_NONE) return MetadataWrite::Busy;
    } else if (lastLibvirtErrorCode() == VIR_ERR_NO_DOMAIN) {
        return MetadataWrite::Gone;
    }
    virDomainControlInfo control{};
    if (virDomainGetControlInfo(dom.get(), &control, 0) == 0 &&
        control.state != VIR_DOMAIN_CONTROL_OK)
        return MetadataWrite::Busy;
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

CpuSet LibvirtHypervisor::readHostCpus(virConnectPtr conn) {
    CpuSet set;
    unsigned char* map = nullptr;
    unsigned int online = 0;
    int n = virNodeGetCPUMap(conn, &map, &online, 0);
    LibvirtArray<unsigned char> owned(map);
    if (n <= 0) return set;
    for (int cpu = 0; cpu < n; ++cpu) {
        if (VIR_CPU_USED(map, cpu)) set.add(static_cast<unsigned>(cpu));
    }
    return set;
}

}  // namespace vmpower
