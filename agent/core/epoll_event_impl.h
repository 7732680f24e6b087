#pragma once
// libvirt's event implementation (virEventRegisterImpl) as an adapter on the
// agent's one loop (event_loop.h): each libvirt handle is an
// EventLoop::Registration (VIR_EVENT flags mapped to EPOLL ones), each
// libvirt timeout an EventLoop::Timer re-armed for its period. libvirt's
// connection and the agent's own fds share one epoll fd, so a request costs
// one epoll_wait, and none of GLib's per-dispatch eventfd wake-ups.
//
// libvirt's rules kept here: a timeout of 0 fires every turn and -1 is
// disabled; a handle watching no events stays registered but is not polled;
// a removed handle's or timeout's free callback runs at the end of a turn
// (EventLoop::atTurnEnd), never from inside the remove call (the caller may
// hold locks the free callback takes).

#include <cstddef>

namespace vmpower::epoll_event_impl {

// Registers the adapter with libvirt; once per process, before the first
// virConnectOpen. Later calls do nothing (EventLoop::registerImpl).
void registerWithLibvirt();

// For tests: the free callbacks still waiting for a turn's end.
std::size_t pendingFrees();

}  // namespace vmpower::epoll_event_impl
