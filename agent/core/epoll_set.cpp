#include "epoll_set.h"

namespace vmpower {

EpollSet::Token EpollSet::add(int fd, std::uint32_t events, EpollClient& client) {
    return epoll_event_impl::addClient(fd, events, client);
}

void EpollSet::modify(Token token, int fd, std::uint32_t events) {
    epoll_event_impl::modifyClient(token, fd, events);
}

void EpollSet::remove(Token token, int fd) {
    epoll_event_impl::removeClient(token, fd);
}

}  // namespace vmpower
