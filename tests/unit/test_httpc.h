/*  test_httpc - a small HTTP/1.1 client for the unit tests of the web
    stack (test_http, test_portal): one request per connection to
    127.0.0.1:test_port, the status, headers and body kept (truncated to
    the buffers). Static functions in a header: each test program is one
    translation unit. */
#ifndef TEST_HTTPC_H_INCLUDED
#define TEST_HTTPC_H_INCLUDED

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int status;
    char headers [4096];
    char body [65536];
} response_t;

static int s_port;

static void
s_http (response_t *r, const char *method, const char *path, const char *headers, const char *body)
{
    memset (r, 0, sizeof *r);
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) s_port) };
    inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
    assert_int_equal (connect (fd, (struct sockaddr *) &addr, sizeof addr), 0);
    char *request = NULL;
    size_t body_size = body ? strlen (body) : 0;
    bool typed = headers && strcasestr (headers, "Content-Type:");
    int n = asprintf (&request, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s"
                      "%sContent-Length: %zu\r\n\r\n", method, path, s_port, headers ? headers : "",
                      typed ? "" : "Content-Type: application/x-www-form-urlencoded\r\n", body_size);
    assert_true (n > 0);
    assert_int_equal (write (fd, request, strlen (request)), (ssize_t) strlen (request));
    if (body_size) {
        size_t sent = 0;
        while (sent < body_size) {
            ssize_t w = write (fd, body + sent, body_size - sent);
            if (w <= 0)
                break;              //  the server may close on a too large body
            sent += (size_t) w;
        }
    }
    free (request);
    char all [81920];
    size_t got = 0;
    ssize_t rd;
    while (got < sizeof all - 1 && (rd = read (fd, all + got, sizeof all - 1 - got)) > 0)
        got += (size_t) rd;
    all [got] = 0;
    close (fd);
    sscanf (all, "HTTP/1.1 %d", &r->status);
    char *split = strstr (all, "\r\n\r\n");
    if (split) {
        *split = 0;
        size_t head = MIN (strlen (all), sizeof r->headers - 1);
        memcpy (r->headers, all, head);
        size_t rest = MIN (strlen (split + 4), sizeof r->body - 1);
        memcpy (r->body, split + 4, rest);
    }
}

//  A header's value (first), copied into buf; "" when absent
static const char *
s_header (response_t *r, const char *name, char *buf, size_t size)
{
    buf [0] = 0;
    char pattern [64];
    snprintf (pattern, sizeof pattern, "\r\n%s: ", name);
    char *at = strcasestr (r->headers, pattern);
    if (at) {
        at += strlen (pattern);
        size_t len = strcspn (at, "\r\n");
        snprintf (buf, size, "%.*s", (int) MIN (len, size - 1), at);
    }
    return buf;
}

//  The session cookie of a login response, as a Cookie header
static void
s_cookie_header (response_t *r, char *buf, size_t size)
{
    char cookie [256];
    s_header (r, "Set-Cookie", cookie, sizeof cookie);
    assert_non_null (strstr (cookie, "en_session="));
    snprintf (buf, size, "Cookie: %.*s\r\n", (int) strcspn (cookie, ";"), cookie);
}

//  A TCP port on 127.0.0.1 nobody listens on now
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET };
    inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
    socklen_t len = sizeof addr;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) || getsockname (fd, (struct sockaddr *) &addr, &len))
        return -1;
    close (fd);
    return ntohs (addr.sin_port);
}

#endif
