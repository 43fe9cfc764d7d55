/* placeholder: keeps the library non-empty until modules land */
int kn_webhook_placeholder_;
