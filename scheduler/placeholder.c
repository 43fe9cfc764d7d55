/* placeholder: keeps the library non-empty until modules land */
int kn_sched_placeholder_;
