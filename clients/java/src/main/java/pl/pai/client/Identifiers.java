package pl.pai.client;

import java.util.regex.Pattern;

/**
 * The identifiers of the contract, validated as the services validate them: PESEL (11 digits,
 * checksum with weights 1,3,7,9,1,3,7,9,1,3) and TERYT codes (powiat: 4 digits, the PUP;
 * gmina: 7 digits, the OPS). A record that fails them is dead-lettered by the services, so the
 * producer helper refuses it before sending.
 */
public final class Identifiers {
  private static final int[] WEIGHTS = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
  private static final Pattern PUP_CODE = Pattern.compile("[0-9]{4}");
  private static final Pattern OPS_CODE = Pattern.compile("[0-9]{7}");

  private Identifiers() {}

  /** 11 ASCII digits whose last one is the checksum. */
  public static boolean isValidPesel(String value) {
    if (value == null || value.length() != 11) {
      return false;
    }
    int total = 0;
    for (int i = 0; i < 11; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
      if (i < 10) {
        total += WEIGHTS[i] * (c - '0');
      }
    }
    return (10 - total % 10) % 10 == value.charAt(10) - '0';
  }

  /** TERYT code of a powiat (the PUP): 4 digits. */
  public static boolean isPupCode(String value) {
    return value != null && PUP_CODE.matcher(value).matches();
  }

  /** TERYT code of a gmina (the OPS): 7 digits. */
  public static boolean isOpsCode(String value) {
    return value != null && OPS_CODE.matcher(value).matches();
  }

  /** What a log may show of a PESEL: the first two digits and the last one. */
  public static String maskPesel(String value) {
    if (value == null) {
      return "null";
    }
    if (value.length() < 4) {
      return "*".repeat(value.length());
    }
    return value.substring(0, 2) + "*".repeat(value.length() - 3) + value.charAt(value.length() - 1);
  }
}
