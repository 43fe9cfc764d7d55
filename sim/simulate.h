/* simulate.h - `kubenexus-scheduler simulate FILE...`: placement without a cluster.
 *
 * argv[0] is "simulate"; the rest are its flags and files. Returns the process
 * exit status. Implemented by the simulation module. */
#ifndef KN_SIMULATE_H
#define KN_SIMULATE_H

int kn_simulate_main(int argc, char **argv);

#endif
