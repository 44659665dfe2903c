/*
 * fuzz_session.h: the part of the request-path harnesses that plays the
 * client: one input on a fresh loopback connection to a onebox cycle
 * running in the fuzzer's process, sent in pieces whose size the input's
 * first byte picks (so that requests arrive split at every place), the
 * reactor run in turns with the sends until the server has answered and
 * closed.  It aborts when the server never finishes (a hang) or when a
 * connection is left open afterwards (a leak in the accounting).
 */
#ifndef OB_FUZZ_SESSION_H
#define OB_FUZZ_SESSION_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "ob_cycle.h"

#define FUZZ_SESSION_ROUNDS  100000

static void
fuzz_session(ob_cycle_t *cy, int port, const uint8_t *data, size_t size)
{
    struct sockaddr_in  sin;
    char                buf[65536];
    ssize_t             n;
    size_t              sent = 0, piece;
    int                 fd, rounds;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sin, sizeof(sin)) != 0) {
        abort();
    }

    piece = size > 0 ? 1 + (size_t) (data[0] % 64) * (data[0] % 3 + 1) : 1;
    if (size > 0 && data[0] >= 192) {
        piece = size;                   /* a quarter of inputs: all at once */
    }
    for (rounds = 0; rounds < FUZZ_SESSION_ROUNDS; rounds++) {
        if (sent < size) {
            n = send(fd, data + sent, OB_MIN(piece, size - sent),
                     MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                sent += (size_t) n;
            }
            if (sent == size) {
                shutdown(fd, SHUT_WR);
            }
        } else if (size == 0 && rounds == 0) {
            shutdown(fd, SHUT_WR);
        }
        event_base_loop(cy->base, EVLOOP_NONBLOCK);
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            break;
        }
    }
    if (rounds == FUZZ_SESSION_ROUNDS) {
        abort();                       /* the server never finished */
    }
    close(fd);
    event_base_loop(cy->base, EVLOOP_NONBLOCK);   /* reap */
    if (cy->stats.conns_current != 0) {
        abort();
    }
}

#endif /* OB_FUZZ_SESSION_H */
