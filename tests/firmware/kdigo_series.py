# KDIGO 2012 AKI staging on hand-built creatinine series. Each expected stage is read
# off the guideline's definitions, not off the code.
import kdigo
from check import check, done, refused

H = 60  # minutes
D = 24 * H
MG = 884  # nmol/L per 0.01 mg/dL
UM = 100  # nmol/L per 0.1 umol/L


def stage(series, krt=False):
    times = [t for t, _ in series]
    values = [v for _, v in series]
    a = kdigo.Aki()
    kdigo.stage(a, times, values, len(series), krt)
    return a.stage, kdigo.CRITERION_NAMES[a.criterion]


check("rise 0.30 mg/dL in 24 h", stage([(0, 100 * MG), (D, 130 * MG)])[0], 1)
check("rise 0.29 mg/dL in 24 h", stage([(0, 100 * MG), (D, 129 * MG)])[0], 0)
check("rise 0.30 mg/dL in 49 h", stage([(0, 100 * MG), (49 * H, 130 * MG)])[0], 0)
check("rise 26.5 umol/L in 1 h", stage([(0, 1000 * UM), (H, 1265 * UM)])[0], 1)
check("rise 26.4 umol/L in 1 h", stage([(0, 1000 * UM), (H, 1264 * UM)])[0], 0)
check("1.5 x within 6 days", stage([(0, 200 * MG), (6 * D, 300 * MG)]), (1, ">= 1.5 x baseline within 7 days"))
check("1.5 x after 8 days", stage([(0, 200 * MG), (8 * D, 300 * MG)])[0], 0)
check("1.49 x within 6 days", stage([(0, 200 * MG), (6 * D, 298 * MG)])[0], 0)
check("2.0 x in 3 days", stage([(0, 100 * MG), (3 * D, 200 * MG)])[0], 2)
check("3.0 x in 3 days", stage([(0, 100 * MG), (3 * D, 300 * MG)])[0], 3)
check("baseline is the 7-day low",
      stage([(0, 150 * MG), (2 * D, 100 * MG), (5 * D, 210 * MG)])[0], 2)
check("rise to 4.1 mg/dL", stage([(0, 380 * MG), (D, 410 * MG)]),
      (3, "rise to >= 4.0 mg/dL (353.6 umol/L)"))
check("stable at 4.3 mg/dL", stage([(0, 420 * MG), (D, 430 * MG)])[0], 0)
check("falling creatinine", stage([(0, 300 * MG), (D, 150 * MG), (2 * D, 100 * MG)])[0], 0)
check("dialysis", stage([(0, 100 * MG)], True), (3, "kidney replacement therapy"))
check("one sample", stage([(0, 500 * MG)])[0], 0)
check("highest stage wins", stage([(0, 100 * MG), (D, 130 * MG), (3 * D, 310 * MG)])[0], 3)
refused("times out of order", lambda: stage([(D, 100 * MG), (0, 130 * MG)]), "time")
refused("creatinine out of range", lambda: stage([(0, 100 * MG), (D, 2600 * MG)]), "scr")
done()
