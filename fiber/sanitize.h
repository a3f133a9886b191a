/*
 * fiber/sanitize.h - telling AddressSanitizer and ThreadSanitizer about the
 * stack switches (both see one stack per thread otherwise: ASan reports
 * the fiber's frames as stack-buffer errors, TSan misses the happens-before
 * a switch carries and reports races between fibers).  Every call is a
 * no-op in a build without the sanitizer.
 *
 *   ASan: __sanitizer_start_switch_fiber(&save, dest_bottom, dest_size)
 *         right before a switch (save NULL when the source ends for good),
 *         __sanitizer_finish_switch_fiber(save, ...) first thing after it;
 *         a reused stack is unpoisoned (dead frames leave redzones).
 *   TSan: one __tsan_create_fiber per fiber, __tsan_switch_to_fiber before
 *         each switch (flags 0: the switch synchronizes), destroy at exit.
 */
#ifndef GOCHAN_FIBER_SANITIZE_H
#define GOCHAN_FIBER_SANITIZE_H

#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GOFIBER_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define GOFIBER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GOFIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define GOFIBER_TSAN 1
#endif

#ifdef GOFIBER_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
				     size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define gofiber__asan_start(save, lo, size) __sanitizer_start_switch_fiber(save, lo, size)
#define gofiber__asan_finish(save) __sanitizer_finish_switch_fiber(save, NULL, NULL)
#define gofiber__asan_unpoison(lo, size) __asan_unpoison_memory_region(lo, size)
/* An object kept on purpose for as long as the process lives (a bubble whose
 * fibers stay blocked for ever, as Go's leaked goroutines): LeakSanitizer
 * takes it, and what it points to, as reachable.  It does not scan a parked
 * fiber's stack, so what only a parked fiber references needs the same. */
void __lsan_ignore_object(const void *p);
#define gofiber__lsan_keep(p) __lsan_ignore_object(p)
#else
#define gofiber__lsan_keep(p) ((void)(p))
#define gofiber__asan_start(save, lo, size) ((void)(save), (void)(lo), (void)(size))
#define gofiber__asan_finish(save) ((void)(save))
#define gofiber__asan_unpoison(lo, size) ((void)(lo), (void)(size))
#endif

#ifdef GOFIBER_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#define gofiber__tsan_current() __tsan_get_current_fiber()
#define gofiber__tsan_create() __tsan_create_fiber(0)
#define gofiber__tsan_destroy(f) __tsan_destroy_fiber(f)
#define gofiber__tsan_switch(f) __tsan_switch_to_fiber(f, 0)
#else
#define gofiber__tsan_current() ((void *)0)
#define gofiber__tsan_create() ((void *)0)
#define gofiber__tsan_destroy(f) ((void)(f))
#define gofiber__tsan_switch(f) ((void)(f))
#endif

#endif
