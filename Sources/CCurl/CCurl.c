// The wrappers are static inline in include/CCurl.h; this file gives the target a translation unit.
#include "CCurl.h"

#include <arpa/inet.h>
#include <netinet/in.h>

int ccurl_sockaddr_text(const struct curl_sockaddr *address, char *text, size_t size) {
    const void *bytes;
    if (address->family == AF_INET) {
        bytes = &((const struct sockaddr_in *)&address->addr)->sin_addr;
    } else if (address->family == AF_INET6) {
        bytes = &((const struct sockaddr_in6 *)&address->addr)->sin6_addr;
    } else {
        return -1;
    }
    return inet_ntop(address->family, bytes, text, (socklen_t)size) ? 0 : -1;
}
