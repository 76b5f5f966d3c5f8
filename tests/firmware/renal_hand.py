# Values a pharmacist can check with pencil and paper, through the firmware API.
import body
import crcl
import renal
from check import check, done

MG = 884  # nmol/L per 0.01 mg/dL
A = body.ACTUAL

# Cockcroft-Gault: (140 - 40) x 72 kg / (72 x 1.00 mg/dL) = 100.0 mL/min; female 85.0.
check("CG male 40 y 72 kg 1.00 mg/dL", crcl.crcl(40, 0, 720, 1, 100 * MG), 1000)
check("CG female 40 y 72 kg 1.00 mg/dL", crcl.crcl(40, 1, 720, 1, 100 * MG), 850)
# 88.4 umol/L is exactly 1 mg/dL.
check("CG male in umol/L", crcl.crcl(40, 0, 720, 1, 884 * 100), 1000)
# (140 - 80) x 60 / (72 x 2.00) = 25.0
check("CG male 80 y 60 kg 2.00 mg/dL", crcl.crcl(80, 0, 600, 1, 200 * MG), 250)
# (140 - 60) x 50 / (72 x 3.00) = 18.518... -> 18.5
check("CG male 60 y 50 kg 3.00 mg/dL", crcl.crcl(60, 0, 500, 1, 300 * MG), 185)
# Devine: 60 in (152.4 cm) -> 50.0 kg male, 45.5 kg female; 70 in (177.8 cm) -> 73.0 kg.
check("IBW male 152.4 cm", body.ibw(0, 1524), 500)
check("IBW female 152.4 cm", body.ibw(1, 1524), 455)
check("IBW male 177.8 cm", body.ibw(0, 1778), 730)
# Adjusted: 73 + 0.4 x (103 - 73) = 85.0 kg
check("adjusted male 177.8 cm 103 kg", body.adjusted(0, 1030, 1778), 850)
# Mosteller: sqrt(180 x 80 / 3600) = 2.00 m2; sqrt(160 x 90 / 3600) = 2.00
check("BSA 180 cm 80 kg", body.bsa(800, 1800), 200)
check("BSA 160 cm 90 kg", body.bsa(900, 1600), 200)
# BMI: 80 / 2.0**2 = 20.0; 72.9 / 1.8**2 = 22.5
check("BMI 200 cm 80 kg", body.bmi(800, 2000), 200)
check("BMI 180 cm 72.9 kg", body.bmi(729, 1800), 225)
# BMI rule: 177.8 cm, 73 kg is BMI 23.1 -> min(ideal 73.0, actual 73.0) = ideal.
check("BMI rule normal", body.weight_basis(body.BMI_RULE, 0, 730, 1778, 120), body.IDEAL)
check("BMI rule normal, below IBW", body.weight_basis(body.BMI_RULE, 0, 700, 1778, 120), body.ACTUAL)
# 25.0 exactly (100 kg at 200 cm) is overweight -> adjusted; 18.4 (73.6 kg) -> actual.
check("BMI rule 25.0", body.weight_basis(body.BMI_RULE, 0, 1000, 2000, 120), body.ADJUSTED)
check("BMI rule 18.4", body.weight_basis(body.BMI_RULE, 0, 736, 2000, 120), body.ACTUAL)
# Pharmacy rule at 177.8 cm male (IBW 73.0): 87.6 kg = 120% -> ideal; 87.7 -> adjusted.
check("pharmacy 120%", body.weight_basis(body.PHARMACY_RULE, 0, 876, 1778, 120), body.IDEAL)
check("pharmacy >120%", body.weight_basis(body.PHARMACY_RULE, 0, 877, 1778, 120), body.ADJUSTED)
check("pharmacy <IBW", body.weight_basis(body.PHARMACY_RULE, 0, 729, 1778, 120), body.ACTUAL)
check("pharmacy 130% setting", body.weight_basis(body.PHARMACY_RULE, 0, 877, 1778, 130), body.IDEAL)

# IMWG: SCr > 2 mg/dL or CrCl < 40 mL/min.
check("IMWG SCr 2.00, CrCl 40.0", renal.imwg_impairment(200 * MG, 400), False)
check("IMWG SCr 2.01", renal.imwg_impairment(201 * MG, 900), True)
check("IMWG CrCl 39.9", renal.imwg_impairment(100 * MG, 399), True)

r = renal.Renal()
renal.assess(r, 40, 0, 720, 1523, 100 * MG, A, 120, True, 0)
check("assess: dialysis warning", r.warnings & renal.W_DIALYSIS, renal.W_DIALYSIS)
check("assess: short warning", r.warnings & renal.W_SHORT, renal.W_SHORT)
renal.assess(r, 40, 0, 600, 1778, 100 * MG, body.IDEAL, 120, False, 1)
check("assess: ideal above actual", r.warnings & renal.W_IDEAL_OVER_ACTUAL, renal.W_IDEAL_OVER_ACTUAL)
check("assess: AKI warning", r.warnings & renal.W_AKI, renal.W_AKI)
check("assess: weight used is IBW", r.weight_x10, 730)
done()
