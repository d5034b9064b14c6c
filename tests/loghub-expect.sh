# Cards that must (expect) and must not (reject) appear on the LogHub samples.
# Sourced by tests/cli.sh; the files live in ../shared/samples/loghub.
expect OpenSSH_2k.log ssh-brute-force ssh-pam-auth-failure
reject OpenSSH_2k.log sudo-auth-failure oom-killer disk-full-enospc
expect Linux_2k.log ssh-pam-auth-failure
reject Linux_2k.log ssh-brute-force kernel-panic oom-killer
expect Apache_2k.log apache-mod-jk-workerenv
reject Apache_2k.log apache-max-workers nginx-upstream-timeout
expect HDFS_2k.log hdfs-block-serve-errors
reject HDFS_2k.log java-out-of-memory hadoop-cluster-unreachable
expect Hadoop_2k.log hadoop-cluster-unreachable hadoop-task-attempt-failed
reject Hadoop_2k.log java-out-of-memory spark-executor-lost
expect Zookeeper_2k.log zookeeper-quorum-peer-errors zookeeper-not-serving
reject Zookeeper_2k.log hadoop-cluster-unreachable
expect BGL_2k.log bluegene-node-kernel-fatal bluegene-io-link-failure
reject BGL_2k.log kernel-panic mce-hardware-error
reject Spark_2k.log spark-executor-lost spark-executor-signal java-out-of-memory
reject Android_2k.log oom-killer process-segfault kernel-panic
