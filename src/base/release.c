/* release.c - telling the layers to the right that an object goes away,
 * without the owner knowing them (see base.h). */
#include "base.h"

#include <pthread.h>

static ll_release_fn *listeners[LL_RELEASE_LISTENERS];
static pthread_mutex_t listeners_lock = PTHREAD_MUTEX_INITIALIZER;

int ll_release_listen(ll_release_fn *fn)
{
    int rc = -1;
    pthread_mutex_lock(&listeners_lock);
    for (int i = 0; i < LL_RELEASE_LISTENERS; i++) {
        ll_release_fn *l = __atomic_load_n(&listeners[i], __ATOMIC_ACQUIRE);
        if (l == fn) {
            rc = 0;
            break;
        }
        if (!l) {
            __atomic_store_n(&listeners[i], fn, __ATOMIC_RELEASE);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&listeners_lock);
    return rc;
}

void ll_released(const void *key)
{
    for (int i = 0; i < LL_RELEASE_LISTENERS; i++) {
        ll_release_fn *l = __atomic_load_n(&listeners[i], __ATOMIC_ACQUIRE);
        if (!l) break;
        l(key);
    }
}
