import { featureCosts } from './bundle.js'

const { whole, features } = await featureCosts()
console.log(
  'whole',
  whole,
  features.find(([n]) => n.startsWith('adaptive')),
)
