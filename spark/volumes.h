/* volumes.h - the volumes Spark mounts on a role's pods from sparkConf, as
 * KubernetesVolumeUtils.parseVolumesWithPrefix reads them and
 * MountVolumesFeatureStep builds them:
 *   spark.kubernetes.<role>.volumes.<type>.<name>.mount.path       (required)
 *   spark.kubernetes.<role>.volumes.<type>.<name>.mount.readOnly   ("true")
 *   spark.kubernetes.<role>.volumes.<type>.<name>.mount.subPath
 *   spark.kubernetes.<role>.volumes.<type>.<name>.options.<option>
 * for type hostPath (options.path, options.type), emptyDir (options.medium,
 * options.sizeLimit), nfs (options.path, options.server) and
 * persistentVolumeClaim (options.claimName, options.storageClass,
 * options.sizeLimit). A claimName "OnDemand" stands for "<executor
 * pod>-pvc-<index>" (index: the volume's place among the role's volumes),
 * "SPARK_EXECUTOR_ID" in it for the executor's id; when storageClass and
 * sizeLimit are set the driver creates the claim for each executor, with
 * access mode ReadWriteOncePod (ReadWriteOnce under
 * spark.kubernetes.legacy.useReadWriteOnceAccessMode). Volumes are in the order their keys
 * first appear in sparkConf (Spark's own order is a hash set's: with one
 * volume the index is 0 either way). */
#ifndef KN_SPARK_VOLUMES_H
#define KN_SPARK_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>

#include "json/json.h"
#include "spark/spark.h"

#define KN_SPARK_MAX_VOLUMES 32

typedef struct kn_spark_volume {
    char type[32];
    char name[64];
    const char *mount_path, *sub_path; /* pointers into the app */
    bool read_only;
    const char *claim_name, *storage_class, *size_limit; /* persistentVolumeClaim */
    const char *path, *host_type, *server, *medium;      /* hostPath, nfs, emptyDir */
} kn_spark_volume;

/* The role's volumes (at most KN_SPARK_MAX_VOLUMES; types Spark does not
 * know and volumes without mount.path are left out, as Spark would fail). */
int kn_spark_conf_volumes(const kn_json *app, kn_spark_role role, kn_spark_volume *out, int cap);
/* The claim volume v (index among the role's volumes) mounts on executor
 * exec_id named pod (exec_id 0, pod NULL: the driver, "<prefix>-driver"). */
void kn_spark_volume_claim(const kn_spark_volume *v, int index, const char *pod, int exec_id, char *buf,
                           size_t cap);
/* Whether the driver creates v's claim for each executor (a claim with a
 * storage class and size). */
bool kn_spark_volume_creates_claim(const kn_spark_volume *v);
/* The access mode of the claims Spark creates for app. */
const char *kn_spark_claim_access_mode(const kn_json *app);

#endif
