/* leader.c - Lease-based leader election (see leader.h). */
#include "kube/client/leader.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

struct kn_leader {
    kn_api *api;
    char *ns, *name, *identity;
    double lease_s, renew_deadline_s, retry_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop; /* guarded by mu */
    atomic_bool leader, lost;
    kn_json *last;      /* our last written Lease (thread-owned; read after join) */
    char *observed;     /* last seen spec, serialized */
    double observed_at; /* monotonic time it was first seen */
    double last_renew;  /* monotonic time of our last successful write */
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void kn_micro_time(double unix_s, char *buf, size_t cap)
{
    time_t t = (time_t)unix_s;
    long usec = (long)((unix_s - (double)t) * 1e6);
    if (usec < 0)
        usec = 0;
    if (usec > 999999)
        usec = 999999;
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%06ldZ", base, usec);
}

void kn_leader_identity(char *buf, size_t cap)
{
    char host[64] = "unknown";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    unsigned r = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&r, sizeof r, 1, f) != 1)
        r = (unsigned)getpid() ^ (unsigned)time(NULL);
    if (f)
        fclose(f);
    snprintf(buf, cap, "%s_%08x", host, r);
}

static void lease_path(const kn_leader *l, char *buf, size_t cap, bool named)
{
    snprintf(buf, cap, "/apis/coordination.k8s.io/v1/namespaces/%s/leases%s%s", l->ns, named ? "/" : "",
             named ? l->name : "");
}

/* Fills spec of lease (an object) with our record. */
static void set_record(kn_json *lease, const char *holder, double dur, const char *acquire, const char *renew,
                       int64_t transitions)
{
    kn_json *spec = kn_json_new_object();
    kn_json_set_str(spec, "holderIdentity", holder);
    kn_json_set(spec, "leaseDurationSeconds", kn_json_new_int((int64_t)dur));
    kn_json_set_str(spec, "acquireTime", acquire);
    kn_json_set_str(spec, "renewTime", renew);
    kn_json_set(spec, "leaseTransitions", kn_json_new_int(transitions));
    kn_json_set(lease, "spec", spec);
}

/* PUT or POST lease; on success keeps the server's copy in l->last. */
static bool write_lease(kn_leader *l, const char *method, kn_json *lease)
{
    char path[512], msg[256];
    lease_path(l, path, sizeof path, strcmp(method, "PUT") == 0);
    char *body = kn_json_dump(lease, NULL);
    kn_err err = {{0}};
    kn_api_req *req = body
                          ? kn_api_req_new(l->api, method, path, body, strcmp(method, "PUT") ? "create" : "update",
                                           (long)l->retry_s + 5, &err)
                          : NULL;
    free(body);
    bool ok = false;
    if (req && kn_api_perform(req, &err) == 0 && (req->status == 200 || req->status == 201)) {
        kn_json *got = kn_api_req_json(req, &err);
        if (got) {
            kn_json_free(l->last);
            l->last = got;
            ok = true;
        }
    } else if (req && req->status) {
        kn_log(req->status == 409 ? KN_LOG_DEBUG : KN_LOG_WARN, "lease write failed",
               "lease=%s/%s status=%ld error=%s", l->ns, l->name, req->status,
               kn_api_req_error(req, msg, sizeof msg));
    } else {
        kn_log(KN_LOG_WARN, "lease write failed", "lease=%s/%s error=%s", l->ns, l->name, err.msg);
    }
    kn_api_req_free(req);
    return ok;
}

static bool create_lease(kn_leader *l, const char *now_s)
{
    kn_json *lease = kn_json_new_object(), *meta = kn_json_new_object();
    kn_json_set_str(lease, "apiVersion", "coordination.k8s.io/v1");
    kn_json_set_str(lease, "kind", "Lease");
    kn_json_set_str(meta, "name", l->name);
    kn_json_set_str(meta, "namespace", l->ns);
    kn_json_set(lease, "metadata", meta);
    set_record(lease, l->identity, l->lease_s, now_s, now_s, 0);
    bool ok = write_lease(l, "POST", lease);
    kn_json_free(lease);
    return ok;
}

/* One round of client-go's tryAcquireOrRenew. */
static bool try_acquire_or_renew(kn_leader *l)
{
    char path[512], now_s[40], msg[256];
    kn_micro_time(wall(), now_s, sizeof now_s);
    lease_path(l, path, sizeof path, true);
    kn_err err = {{0}};
    kn_api_req *req = kn_api_req_new(l->api, "GET", path, NULL, "get", (long)l->retry_s + 5, &err);
    if (!req || kn_api_perform(req, &err) < 0) {
        kn_log(KN_LOG_WARN, "lease read failed", "lease=%s/%s error=%s", l->ns, l->name, err.msg);
        kn_api_req_free(req);
        return false;
    }
    if (req->status == 404) {
        kn_api_req_free(req);
        return create_lease(l, now_s);
    }
    kn_json *lease = req->status == 200 ? kn_api_req_json(req, &err) : NULL;
    if (!lease) {
        kn_log(KN_LOG_WARN, "lease read failed", "lease=%s/%s status=%ld error=%s", l->ns, l->name, req->status,
               req->status == 200 ? err.msg : kn_api_req_error(req, msg, sizeof msg));
        kn_api_req_free(req);
        return false;
    }
    kn_api_req_free(req);
    const kn_json *spec = kn_json_get(lease, "spec");
    const char *holder = kn_json_get_str(spec, "holderIdentity");
    int64_t dur = 0, transitions = 0;
    kn_json_int(kn_json_get(spec, "leaseDurationSeconds"), &dur);
    kn_json_int(kn_json_get(spec, "leaseTransitions"), &transitions);
    /* Expiry is judged on our clock from when we first saw this record, never
     * by comparing the holder's renewTime with our wall clock. */
    char *seen = kn_json_dump(spec, NULL);
    if (!seen || !l->observed || strcmp(seen, l->observed) != 0) {
        free(l->observed);
        l->observed = seen;
        l->observed_at = mono();
    } else {
        free(seen);
    }
    bool mine = holder && strcmp(holder, l->identity) == 0;
    if (holder && *holder && !mine && l->observed_at + (double)dur > mono()) {
        kn_json_free(lease);
        return false; /* held by another, not expired */
    }
    const char *acquire = mine && atomic_load(&l->leader) ? kn_json_get_str(spec, "acquireTime") : NULL;
    set_record(lease, l->identity, l->lease_s, acquire ? acquire : now_s, now_s,
               mine && atomic_load(&l->leader) ? transitions : transitions + 1);
    bool ok = write_lease(l, "PUT", lease);
    kn_json_free(lease);
    return ok;
}

static bool wait_stop(kn_leader *l, double seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + seconds;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    pthread_mutex_lock(&l->mu);
    while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &ts) == 0)
        ;
    bool stop = l->stop;
    pthread_mutex_unlock(&l->mu);
    return stop;
}

static void *leader_thread(void *arg)
{
    kn_leader *l = arg;
    do {
        bool ok = try_acquire_or_renew(l);
        double now = mono();
        if (ok) {
            l->last_renew = now;
            if (!atomic_load(&l->leader)) {
                kn_log(KN_LOG_INFO, "became leader", "lease=%s/%s identity=%s", l->ns, l->name, l->identity);
                atomic_store(&l->leader, true);
            }
        } else if (atomic_load(&l->leader) && now - l->last_renew > l->renew_deadline_s) {
            kn_log(KN_LOG_ERROR, "leader election lost: lease not renewed within the renew deadline",
                   "lease=%s/%s identity=%s", l->ns, l->name, l->identity);
            atomic_store(&l->leader, false);
            atomic_store(&l->lost, true);
            break;
        }
    } while (!wait_stop(l, l->retry_s));
    return NULL;
}

kn_leader *kn_leader_start(kn_api *api, const kn_leader_opts *o, kn_err *err)
{
    kn_leader *l = calloc(1, sizeof *l);
    if (!l || !(l->ns = strdup(o->ns)) || !(l->name = strdup(o->name)) || !(l->identity = strdup(o->identity))) {
        if (l) {
            free(l->ns);
            free(l->name);
        }
        free(l);
        kn_err_set(err, "out of memory");
        return NULL;
    }
    l->api = api;
    l->lease_s = o->lease_s > 0 ? o->lease_s : 15;
    l->renew_deadline_s = o->renew_deadline_s > 0 ? o->renew_deadline_s : 10;
    l->retry_s = o->retry_s > 0 ? o->retry_s : 2;
    atomic_init(&l->leader, false);
    atomic_init(&l->lost, false);
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&l->thread, NULL, leader_thread, l) != 0) {
        kn_leader_stop(l, false);
        kn_err_set(err, "cannot start the leader election thread");
        return NULL;
    }
    return l;
}

bool kn_leader_is_leader(kn_leader *l)
{
    return atomic_load(&l->leader);
}
bool kn_leader_lost(kn_leader *l)
{
    return atomic_load(&l->lost);
}

static void release(kn_leader *l)
{
    char now_s[40];
    kn_micro_time(wall(), now_s, sizeof now_s);
    int64_t transitions = 0;
    kn_json_int(kn_json_dig(l->last, "spec", "leaseTransitions", NULL), &transitions);
    set_record(l->last, "", 1, now_s, now_s, transitions);
    if (write_lease(l, "PUT", l->last))
        kn_log(KN_LOG_INFO, "lease released", "lease=%s/%s", l->ns, l->name);
}

void kn_leader_stop(kn_leader *l, bool do_release)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (l->thread)
        pthread_join(l->thread, NULL);
    if (do_release && atomic_load(&l->leader) && l->last)
        release(l);
    atomic_store(&l->leader, false);
    kn_json_free(l->last);
    free(l->observed);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l->ns);
    free(l->name);
    free(l->identity);
    free(l);
}
