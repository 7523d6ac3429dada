package pl.pai.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The same answers as services/runtime/identifiers.py (tests/unit/test_identifiers.py). */
class IdentifiersTest {
  @Test
  void peselChecksum() {
    for (String valid : new String[] {"44051401359", "02070803628", "90090515836", "85121712340"}) {
      assertTrue(Identifiers.isValidPesel(valid), valid);
    }
    for (String invalid : new String[] {"44051401358", "4405140135", "440514013590", "4405140135a",
        "４4051401359", "", " 44051401359"}) {
      assertFalse(Identifiers.isValidPesel(invalid), invalid);
    }
    assertFalse(Identifiers.isValidPesel(null));
  }

  @Test
  void everyCheckDigitButOneIsRefused() {
    String base = "4405140135";
    int valid = 0;
    for (char d = '0'; d <= '9'; d++) {
      valid += Identifiers.isValidPesel(base + d) ? 1 : 0;
    }
    assertEquals(1, valid);
  }

  @Test
  void terytCodes() {
    assertTrue(Identifiers.isPupCode("1465"));
    assertFalse(Identifiers.isPupCode("146"));
    assertFalse(Identifiers.isPupCode("14650"));
    assertFalse(Identifiers.isPupCode("１４６５")); // full-width digits are not ASCII digits
    assertFalse(Identifiers.isPupCode("1465\n"));
    assertTrue(Identifiers.isOpsCode("1465011"));
    assertFalse(Identifiers.isOpsCode("146501"));
    assertFalse(Identifiers.isOpsCode(null));
  }

  @Test
  void maskShowsTwoDigitsAndTheLast() {
    assertEquals("44********9", Identifiers.maskPesel("44051401359"));
    assertEquals("***", Identifiers.maskPesel("123"));
  }
}
