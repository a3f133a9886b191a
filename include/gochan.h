/*
 * gochan.h - Go's channels, select, timers, context and thread groups, in C.
 * The umbrella header: includes every module's header.
 */
#ifndef GOCHAN_H
#define GOCHAN_H

#include <gochan/version.h>
#include <gochan/chan.h>
#include <gochan/select.h>
#include <gochan/time.h>
#include <gochan/context.h>
#include <gochan/poll.h>
#include <gochan/waitgroup.h>
#include <gochan/group.h>
#include <gochan/diag.h>
#include <gochan/fiber.h>
#include <gochan/bubble.h>

#endif
