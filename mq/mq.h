/*
 * mq.h: the AMQP 0-9-1 broker as a onebox module, all that other modules
 * and the core see of it.  Its insides are in mq_int.h.
 */
#ifndef MQ_H
#define MQ_H

#include "ob_module.h"

extern const ob_module_t mq_module;

#endif /* MQ_H */
