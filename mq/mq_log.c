/*
 * mq_log.c: STUB until durability lands.
 */
#include "mq_int.h"

int mq_log_open(mq_t *mq, ob_err_t *err) { (void) mq; (void) err; return OB_OK; }
void mq_log_close(mq_t *mq) { (void) mq; }
