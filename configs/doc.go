// Package configs holds no code: it is the one source of the files that the
// QEMU bench image (qemu/build-image.sh) and the Yocto layer install on a
// device, and the tests that pin them.
//
//	medagent.yaml                  product configuration (/etc/medagent/medagent.yaml)
//	medagent.example.yaml          every key with its default (documentation)
//	systemd/medagent-acquire.service, medagent-uplink.service
//	                               the two roles as different users
//	systemd/medagent.service       both roles in one process (boards that do not split):
//	                               user medagent-acq, the uplink's two directories
//	                               handed to it by StateDirectory= (TestUnitsCanWriteTheirDirectories)
//	systemd/medagent-reboot.path, .service
//	                               reboot on the update engine's request
//	systemd/medagent.sysusers      users and groups (/usr/lib/sysusers.d/medagent.conf)
//	systemd/medagent.conf.tmpfiles directories (/usr/lib/tmpfiles.d/medagent.conf)
//	systemd/medagent.modules-load  drivers whose device groups the acquire unit allows, loaded
//	                               before it starts (/usr/lib/modules-load.d/medagent.conf)
//	udev/60-medagent.rules         device groups (/usr/lib/udev/rules.d/)
//	systemd/medagent-datadir.service
//	                               makes /data/medagent before it is bound to /var/lib/medagent
//	fw_env.config                  the U-Boot environment copies for fw_printenv and the engine (/etc/fw_env.config)
//
// Role isolation, in one table (who may do what):
//
//	                          acquire (medagent-acq)   uplink (medagent-up)   technician (medtech)
//	network                   no (PrivateNetwork)      yes                    -
//	sensors, slots, /uboot    yes                      no (DevicePolicy)      -
//	TPM (/dev/tpmrm0)         yes (spool key seal)     yes (TLS key)          -
//	/var/lib/medagent/acquire rw                       no access              no access
//	/var/lib/medagent/uplink  no access                rw                     no access
//	spool/, shared/           rw                       read                   no access
//	handoff/                  read                     rw                     no access
//	/run/medagent (tech sock) rw                       no access              connect
//	/run/medagent-uplink      no access                rw                     connect
package configs
