#ifndef CCURL_H
#define CCURL_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
// These typed wrappers are the only way the Swift side sets options or reads info.

static inline CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*ccurl_write_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode ccurl_easy_setopt_write_function(CURL *handle, ccurl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode ccurl_easy_setopt_header_function(CURL *handle, ccurl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

static inline CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ccurl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ccurl_easy_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ccurl_easy_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

// CURLINFO_EFFECTIVE_URL, CURLINFO_PRIMARY_IP and friends hand back a pointer into the handle's own
// storage: valid until the next transfer or curl_easy_cleanup, so copy it out straight away.
static inline CURLcode ccurl_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    return curl_easy_getinfo(handle, info, (char **)value);
}

// Function-like macros with casts (CURLAUTH_BASIC, CURL_GLOBAL_DEFAULT) do not import into Swift.
static inline CURLcode ccurl_easy_setopt_httpauth_basic(CURL *handle) {
    return curl_easy_setopt(handle, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
}

static inline CURLcode ccurl_global_init_default(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

static inline unsigned int ccurl_url_flag_default_port(void) {
    return CURLU_DEFAULT_PORT;
}

// The multi interface. curl_multi_setopt is variadic too; CURLMsg carries its result in a union,
// which this helper reads so the Swift side never touches the union's layout.

static inline CURLMcode ccurl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

// Reads the next "transfer done" message: returns 1 and fills easy and result, or 0 when the
// queue holds no more. Messages of other kinds (none are defined today) are skipped.
static inline int ccurl_multi_next_done(CURLM *multi, CURL **easy, CURLcode *result) {
    int remaining = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &remaining)) != NULL) {
        if (message->msg == CURLMSG_DONE) {
            *easy = message->easy_handle;
            *result = message->data.result;
            return 1;
        }
    }
    return 0;
}

// Connect-time address checks (OutboundRequest.refusePrivateAddresses): libcurl calls the
// open-socket callback with each address it is about to connect to, after DNS, for new
// connections only. The callback is written in Swift; these set it and read its argument.

static inline CURLcode ccurl_easy_setopt_opensocket_function(CURL *handle, curl_opensocket_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback);
}

// The numeric text of the address libcurl is about to connect to ("192.0.2.1", "2001:db8::1"),
// written into text (at least 46 bytes); returns 0, or -1 for a family other than IPv4 and IPv6.
// In C because curl_sockaddr's addr member is declared as a plain struct sockaddr, while
// libcurl's storage behind it holds a whole sockaddr_in6.
int ccurl_sockaddr_text(const struct curl_sockaddr *address, char *text, size_t size);

#endif
