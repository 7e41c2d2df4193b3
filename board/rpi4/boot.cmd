# U-Boot A/B boot for the Raspberry Pi 4 CallBox (compiled to boot.scr by post-image with mkimage).
# RAUC's uboot backend keeps BOOT_ORDER and BOOT_A_LEFT / BOOT_B_LEFT in the U-Boot environment.
test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3
setenv bootpart
for slot in ${BOOT_ORDER}; do
  if test "x${bootpart}" = "x"; then
    if test "x${slot}" = "xA" && test ${BOOT_A_LEFT} -gt 0; then
      setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1; setenv bootpart 2; setenv rauc_slot A
    elif test "x${slot}" = "xB" && test ${BOOT_B_LEFT} -gt 0; then
      setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1; setenv bootpart 3; setenv rauc_slot B
    fi
  fi
done
if test "x${bootpart}" = "x"; then
  setenv BOOT_A_LEFT 3; setenv BOOT_B_LEFT 3; saveenv; reset
fi
saveenv
load mmc 0:${bootpart} ${kernel_addr_r} boot/Image
setenv bootargs "root=/dev/mmcblk0p${bootpart} ro rootwait console=ttyAMA0,115200 rauc.slot=${rauc_slot}"
booti ${kernel_addr_r} - ${fdt_addr}
